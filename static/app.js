// Small progressive enhancements; every page works without this file.
(function () {
  // Close an open dropdown (<details class="switcher">) when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.querySelectorAll("details.switcher[open]").forEach(function (d) { d.removeAttribute("open"); });
      var nav = document.getElementById("nav-open");
      if (nav) nav.checked = false;
    }
  });

  // Menus stay inside the viewport: one that would cross the left edge is
  // anchored on its left instead; arrow keys move between its items.
  document.querySelectorAll("details.switcher").forEach(function (d) {
    var menu = d.querySelector(".menu");
    if (!menu) return;
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      menu.classList.remove("flip-left");
      if (menu.getBoundingClientRect().left < 8) menu.classList.add("flip-left");
    });
    var itemsOf = function () {
      return Array.prototype.filter.call(
        menu.querySelectorAll("a, button, input, select"),
        function (el) { return !el.disabled && el.offsetParent !== null; });
    };
    // ArrowDown on the ••• (or switcher) button opens the menu at its first item.
    var summary = d.querySelector("summary");
    if (summary) summary.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowDown") return;
      e.preventDefault();
      d.open = true;
      var items = itemsOf();
      if (items.length) items[0].focus();
    });
    menu.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      var items = itemsOf();
      if (!items.length) return;
      var i = items.indexOf(document.activeElement);
      i = e.key === "ArrowDown" ? (i + 1) % items.length : (i <= 0 ? items.length - 1 : i - 1);
      items[i].focus();
      e.preventDefault();
    });
  });

  // The Menu button on phones answers Enter and Space like a button.
  document.querySelectorAll(".nav-toggle").forEach(function (t) {
    t.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") {
        var nav = document.getElementById(t.getAttribute("for"));
        if (nav) nav.checked = !nav.checked;
        e.preventDefault();
      }
    });
  });

  // Page picker: a collapsible tree. A ticked page carries its sub-pages
  // along (never into a private one), so they show ticked and disabled,
  // "included with" it, and the count is of pages that will be shared.
  // Without this script the form still posts every ticked box.
  document.querySelectorAll(".picker").forEach(function (picker) {
    var rows = Array.prototype.slice.call(picker.querySelectorAll(".picker-list li"));
    var search = picker.querySelector(".picker-search");
    var form = picker.closest("form");
    var count = form && form.querySelector(".picker-count");
    var empty = form && form.querySelector(".picker-empty");
    var depth = function (li) { return +li.getAttribute("data-depth"); };
    var box = function (li) { return li.querySelector("input[type=checkbox]"); };

    function recount() {
      var stack = [], n = 0;
      rows.forEach(function (li) {
        var d = depth(li), b = box(li), note = li.querySelector(".picker-note");
        var priv = li.getAttribute("data-private") === "true";
        while (stack.length && stack[stack.length - 1].d >= d) stack.pop();
        var carrier = null;
        if (!priv) {
          for (var k = stack.length - 1; k >= 0; k--) {
            if (stack[k].ticked) { carrier = stack[k].title; break; }
            if (stack[k].priv) break;
          }
        }
        if (carrier) {
          b.checked = true; b.disabled = true;
          note.textContent = "included with " + carrier;
        } else {
          b.disabled = false;
          b.checked = li.getAttribute("data-own") === "1";
          note.textContent = "";
        }
        if (b.checked) n++;
        stack.push({ d: d, title: li.getAttribute("data-title"), ticked: !carrier && b.checked, priv: priv });
      });
      if (count) count.textContent = n + (n === 1 ? " page will be shared" : " pages will be shared");
      if (empty) empty.hidden = n !== 0;
    }

    function show() {
      var q = search ? search.value.trim().toLowerCase() : "";
      var collapsedAt = null;
      rows.forEach(function (li) {
        var path = li.querySelector(".picker-path");
        if (q !== "") {
          li.hidden = li.getAttribute("data-title").toLowerCase().indexOf(q) === -1;
          path.hidden = path.textContent === "";
          return;
        }
        path.hidden = true;
        var d = depth(li);
        if (collapsedAt !== null && d <= collapsedAt) collapsedAt = null;
        li.hidden = collapsedAt !== null;
        if (collapsedAt === null && li.classList.contains("collapsed")) collapsedAt = d;
      });
    }

    rows.forEach(function (li) {
      var chevron = li.querySelector(".chevron");
      if (li.getAttribute("data-kids") === "true") {
        chevron.removeAttribute("data-idle");
        chevron.addEventListener("click", function () {
          var closed = li.classList.toggle("collapsed");
          chevron.setAttribute("aria-expanded", closed ? "false" : "true");
          chevron.setAttribute("aria-label", (closed ? "Expand " : "Collapse ") + li.getAttribute("data-title"));
          chevron.textContent = closed ? "▸" : "▾";
          show();
        });
      }
      box(li).addEventListener("change", function () {
        if (!box(li).disabled) li.setAttribute("data-own", box(li).checked ? "1" : "");
        recount();
      });
    });
    if (search) {
      search.addEventListener("input", show);
      // Enter in the search box must not submit the consent form.
      search.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    }
    recount();
  });
})();

// Copy buttons: copy the named field's value to the clipboard.
document.querySelectorAll("[data-copy]").forEach(function (btn) {
  btn.addEventListener("click", function () {
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () { btn.textContent = "Copied"; };
    var failed = function () { btn.textContent = "Copy failed: select the text and copy it"; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      (document.execCommand("copy") ? done : failed)();
    }
  });
});

// Page ••• menu: filter the connections that can be added.
document.querySelectorAll(".conn-search").forEach(function (search) {
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    var menu = search.closest(".menu");
    menu.querySelectorAll(".conn-list li").forEach(function (li) {
      li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) === -1;
    });
  });
});

// Copy internal integration token: one press fetches the token (an audited
// POST carrying the CSRF token) and copies it. Without this script the link
// opens the page that shows the token.
document.querySelectorAll("[data-copy-token]").forEach(function (link) {
  link.addEventListener("click", function (e) {
    if (!navigator.clipboard || !window.fetch) return;
    e.preventDefault();
    var status = document.querySelector(".copy-status");
    var say = function (text, ok) {
      if (!status) return;
      status.hidden = false;
      status.textContent = text;
      status.classList.toggle("alert", !ok);
      status.classList.toggle("flash", ok);
    };
    var body = new URLSearchParams();
    body.set("csrf", link.getAttribute("data-csrf"));
    fetch(link.getAttribute("data-copy-token"), {
      method: "POST",
      headers: { "Accept": "application/json" },
      body: body,
      credentials: "same-origin"
    }).then(function (r) {
      if (!r.ok) throw new Error("the server answered " + r.status);
      return r.json();
    }).then(function (j) {
      return navigator.clipboard.writeText(j.token).then(function () {
        say("Copied the token of " + j.name + ". The copy is in the audit log.", true);
      }, function () {
        throw new Error("the browser did not allow the clipboard");
      });
    }).catch(function (err) {
      say("Could not copy the token: " + err.message + ". Open Copy internal integration token without JavaScript to see it.", false);
    });
    var details = link.closest("details");
    if (details) details.removeAttribute("open");
  });
});

// Auto-approve means something only with "Only from approved list".
document.querySelectorAll(".policy-form").forEach(function (form) {
  var auto = form.querySelector("input[name=auto_approve]");
  if (!auto) return;
  var sync = function () {
    var restricted = form.querySelector("input[name=policy][value=approved_only]");
    auto.disabled = !(restricted && restricted.checked);
  };
  form.querySelectorAll("input[name=policy]").forEach(function (r) { r.addEventListener("change", sync); });
  sync();
});

// Settings → Connections: the search box filters the table's rows by their
// text. Without this file the box stays hidden and every row shows.
document.querySelectorAll("input[data-filter]").forEach(function (search) {
  var table = document.getElementById(search.getAttribute("data-filter"));
  if (!table) return;
  var empty = document.getElementById(search.id + "-empty");
  search.hidden = false;
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    var shown = 0;
    // Grouped lists (Settings → Connections) filter whole groups.
    var items = table.querySelectorAll("tbody[data-search]");
    if (!items.length) items = table.querySelectorAll("tbody tr");
    items.forEach(function (tr) {
      var text = (tr.getAttribute("data-search") || tr.textContent).toLowerCase();
      var hit = q === "" || text.indexOf(q) !== -1;
      tr.hidden = !hit;
      if (hit) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  });
});

// My integrations' create form: show only the fields of the chosen type.
// Without this file every field shows and the server ignores the others.
document.querySelectorAll(".kind-form").forEach(function (form) {
  var sync = function () {
    var chosen = form.querySelector("input[name=kind]:checked");
    var kind = chosen ? chosen.value : "public";
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind") !== kind;
    });
  };
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", sync); });
  sync();
});

// Settings → Connections: an integration with several connections shows
// them when expanded. Without this file every group shows its connections.
document.querySelectorAll(".group-toggle").forEach(function (btn) {
  var group = document.getElementById(btn.getAttribute("aria-controls"));
  if (!group) return;
  var name = group.querySelector(".group-name").textContent;
  var set = function (open) {
    group.classList.toggle("collapsed", !open);
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    btn.textContent = open ? "Hide connections" : "Show connections";
    btn.setAttribute("aria-label", (open ? "Hide" : "Show") + " the connections of " + name);
  };
  btn.hidden = false;
  set(false);
  btn.addEventListener("click", function () { set(btn.getAttribute("aria-expanded") !== "true"); });
});

// Audit log: each <time class="local-time"> shows the viewer's local time;
// its title keeps the UTC time the server wrote. Without this file the
// text stays in UTC.
function showLocalTimes() {
  document.querySelectorAll("time.local-time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) return;
    t.textContent = d.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  });
}
showLocalTimes();

// After a save that returns to a block of the page (#install-policy), that
// block's heading takes the focus, so keyboard and screen-reader users
// continue where they were.
function focusReturnedBlock() {
  var id = window.location.hash.slice(1);
  if (!id) return;
  var target = document.getElementById(id);
  if (target && target.getAttribute("tabindex") === "-1") target.focus();
}
focusReturnedBlock();
