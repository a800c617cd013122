// Passkeys: Add a passkey (My account → Passkeys) and Sign in with a passkey
// (the login page, with conditional UI where the browser offers it). The
// server sends WebAuthn options as JSON with base64url bytes; the answers go
// back the same way, with the page's CSRF token in X-CSRF-Token.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBytes(b64url) {
    var s = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    if (!buf) return null;
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error || "The server refused the request (" + r.status + ").");
        return j;
      });
    });
  }

  // A message box takes its role (alert, status) only while it shows: a
  // hidden, empty role="alert" on the page would be found by anything
  // looking for the page's alert.
  function show(el, text) {
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
    if (text) el.setAttribute("role", el.getAttribute("data-role"));
    else el.removeAttribute("role");
  }

  // Browsers report a cancelled or timed-out prompt as NotAllowedError.
  function words(e) {
    if (e && e.name === "NotAllowedError") return "The passkey prompt was cancelled or timed out. Try again.";
    if (e && e.name === "InvalidStateError") return "This device already holds a passkey for your account.";
    if (e && e.name === "SecurityError") return "Your browser refused passkeys at this address. Open pagegrant at its own address (its issuer, such as http://localhost:8080 rather than http://127.0.0.1:8080).";
    return (e && e.message) || "Something went wrong. Try again.";
  }

  // My account → Passkeys: Add a passkey.
  var add = document.getElementById("passkey-add");
  if (add) {
    var err = document.getElementById("passkey-error");
    var status = document.getElementById("passkey-status");
    add.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var csrf = add.getAttribute("data-csrf");
      var name = document.getElementById("passkey-name").value;
      var button = add.querySelector("button[type=submit]");
      show(err, ""); show(status, "Follow your browser's prompt to create the passkey…");
      button.disabled = true;
      post("/account/passkeys/options", csrf, { name: name }).then(function (start) {
        var pk = start.options.publicKey;
        pk.challenge = toBytes(pk.challenge);
        pk.user.id = toBytes(pk.user.id);
        pk.excludeCredentials = ids(pk.excludeCredentials);
        return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
          return post("/account/passkeys", csrf, {
            challenge: start.challenge,
            credential: {
              id: cred.id,
              rawId: toB64url(cred.rawId),
              type: cred.type,
              response: {
                attestationObject: toB64url(cred.response.attestationObject),
                clientDataJSON: toB64url(cred.response.clientDataJSON),
                transports: cred.response.getTransports ? cred.response.getTransports() : undefined
              },
              extensions: {}
            }
          });
        });
      }).then(function (done) {
        show(status, "Added the passkey " + done.name + ".");
        window.location.assign(done.redirect);
      }).catch(function (e) {
        show(status, ""); show(err, words(e));
        button.disabled = false;
      });
    });
  }

  // Use a passkey to prove who a known person is: the login's second step
  // (/login/two-step) and Confirm it's you. The box names its endpoints,
  // the CSRF token and where to go; the options list only that person's
  // passkeys.
  var proofs = document.querySelectorAll(".passkey-proof");
  Array.prototype.forEach.call(proofs, function (proof) {
    var pbutton = proof.querySelector("[data-passkey-prove]");
    var perr = proof.querySelector("[data-passkey-error]");
    var pcsrf = proof.getAttribute("data-csrf");
    pbutton.addEventListener("click", function () {
      show(perr, "");
      pbutton.disabled = true;
      post(proof.getAttribute("data-options"), pcsrf, {}).then(function (start) {
        var pk = start.options.publicKey;
        pk.challenge = toBytes(pk.challenge);
        pk.allowCredentials = ids(pk.allowCredentials);
        return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
          return post(proof.getAttribute("data-answer"), pcsrf, {
            challenge: start.challenge,
            next: proof.getAttribute("data-next") || null,
            credential: {
              id: cred.id,
              rawId: toB64url(cred.rawId),
              type: cred.type,
              response: {
                authenticatorData: toB64url(cred.response.authenticatorData),
                clientDataJSON: toB64url(cred.response.clientDataJSON),
                signature: toB64url(cred.response.signature),
                userHandle: toB64url(cred.response.userHandle)
              },
              extensions: {}
            }
          });
        });
      }).then(function (done) {
        window.location.assign(done.redirect);
      }).catch(function (e) {
        show(perr, words(e));
        pbutton.disabled = false;
      });
    });
  });

  // The login page: Sign in with a passkey, and conditional UI.
  var box = document.getElementById("passkey-login");
  if (box) {
    var form = document.querySelector("form[action='/login']");
    var csrf = form.querySelector("input[name=csrf]").value;
    var next = form.querySelector("input[name=next]").value;
    var lerr = document.getElementById("passkey-error");
    var button = document.getElementById("passkey-signin");
    var pending = null;
    box.hidden = false;

    var signIn = function (mediation) {
      if (pending) pending.abort();
      var ctl = window.AbortController ? new AbortController() : null;
      pending = ctl;
      return post("/login/passkey/options", csrf, {}).then(function (start) {
        var pk = start.options.publicKey;
        pk.challenge = toBytes(pk.challenge);
        pk.allowCredentials = ids(pk.allowCredentials);
        var req = { publicKey: pk };
        if (mediation) req.mediation = mediation;
        if (ctl) req.signal = ctl.signal;
        return navigator.credentials.get(req).then(function (cred) {
          return post("/login/passkey", csrf, {
            challenge: start.challenge,
            next: next || null,
            credential: {
              id: cred.id,
              rawId: toB64url(cred.rawId),
              type: cred.type,
              response: {
                authenticatorData: toB64url(cred.response.authenticatorData),
                clientDataJSON: toB64url(cred.response.clientDataJSON),
                signature: toB64url(cred.response.signature),
                userHandle: toB64url(cred.response.userHandle)
              },
              extensions: {}
            }
          });
        });
      }).then(function (done) {
        window.location.assign(done.redirect);
      });
    };

    button.addEventListener("click", function () {
      show(lerr, "");
      button.disabled = true;
      signIn(null).catch(function (e) {
        if (e && e.name === "AbortError") return;
        show(lerr, words(e));
      }).then(function () { button.disabled = false; });
    });

    // Conditional UI: passkeys offered in the email field's autofill.
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) return;
        // Quietly: the button says what went wrong if the person asks.
        signIn("conditional").catch(function () {});
      }).catch(function () {});
    }
  }
})();
