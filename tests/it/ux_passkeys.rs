//! Passkeys over HTTP (issue 28 items 1 and 6): webauthn-rs's software
//! authenticators drive the real endpoints, as a browser's script does:
//! enrolment in My account → Passkeys, **Sign in with a passkey**, and the
//! refusals (a cloned authenticator, a wrong origin, a malformed
//! attestation, a replayed or expired challenge, another person's
//! challenge), each a JSON error with nothing stored.

use reqwest::blocking::Client;
use serde_json::{json, Value};
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_authenticator_rs::AuthenticatorBackend;

use crate::kit::*;

/// The fixture with a `localhost` issuer: browsers refuse an IP address
/// as a relying party, so passkeys need a name.
pub(crate) fn pk_fixture() -> Fx {
    fixture_with(|c| c.server.issuer = c.server.issuer.replace("127.0.0.1", "localhost"))
}

pub(crate) fn origin(fx: &Fx) -> Url {
    Url::parse(&fx.srv.config.server.issuer).unwrap()
}

/// The CSRF token the passkeys page gives its script.
pub(crate) fn account_csrf(fx: &Fx, c: &Client) -> String {
    let (status, page) = get_html(c, &fx.srv.url("/account/passkeys"));
    assert_eq!(status, 200, "{page}");
    attr(&page, "#passkey-add", "data-csrf").expect("data-csrf")
}

pub(crate) fn post_json(c: &Client, url: &str, csrf: &str, body: &Value) -> (u16, Value) {
    let r = c
        .post(url)
        .header("x-csrf-token", csrf)
        .json(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// The server's options for a new passkey, as a security key without
/// resident-key storage answers them (the soft authenticators refuse
/// `requireResidentKey`; the server's check does not depend on it).
pub(crate) fn add_options(
    fx: &Fx,
    c: &Client,
    csrf: &str,
    name: &str,
) -> (String, CreationChallengeResponse) {
    let (status, start) = post_json(
        c,
        &fx.srv.url("/account/passkeys/options"),
        csrf,
        &json!({ "name": name }),
    );
    assert_eq!(status, 200, "{start}");
    let mut options = start["options"].clone();
    let sel = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .unwrap();
    assert_eq!(
        sel["residentKey"], "required",
        "discoverable credentials asked"
    );
    sel["residentKey"] = json!("discouraged");
    sel["requireResidentKey"] = json!(false);
    let ccr = serde_json::from_value(options).unwrap();
    (start["challenge"].as_str().unwrap().to_string(), ccr)
}

pub(crate) fn finish_add(
    fx: &Fx,
    c: &Client,
    csrf: &str,
    challenge: &str,
    credential: Value,
) -> (u16, Value) {
    post_json(
        c,
        &fx.srv.url("/account/passkeys"),
        csrf,
        &json!({ "challenge": challenge, "credential": credential }),
    )
}

/// Enrols `key` for the logged-in client; answers the credential id.
pub(crate) fn enrol(
    fx: &Fx,
    c: &Client,
    key: &mut impl AuthenticatorBackend,
    name: &str,
) -> String {
    let csrf = account_csrf(fx, c);
    let (challenge, ccr) = add_options(fx, c, &csrf, name);
    let reg = key.do_registration(origin(fx), ccr).unwrap();
    let credential = serde_json::to_value(&reg).unwrap();
    let (status, body) = finish_add(fx, c, &csrf, &challenge, credential.clone());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], name);
    credential["id"].as_str().unwrap().to_string()
}

/// A sign-in ceremony started from the login page: its CSRF token, the
/// challenge id and the options (with `allowCredentials` naming `cred_id`,
/// which the soft authenticators need to find their key).
pub(crate) fn login_options(
    fx: &Fx,
    c: &Client,
    cred_id: &str,
) -> (String, String, RequestChallengeResponse) {
    let (_, page) = get_html(c, &fx.srv.url("/login"));
    let csrf = input_value(&page, "csrf").unwrap();
    let (status, start) = post_json(c, &fx.srv.url("/login/passkey/options"), &csrf, &json!({}));
    assert_eq!(status, 200, "{start}");
    let mut options = start["options"].clone();
    options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": cred_id }]);
    let rcr = serde_json::from_value(options).unwrap();
    (csrf, start["challenge"].as_str().unwrap().to_string(), rcr)
}

pub(crate) fn post_login(
    fx: &Fx,
    c: &Client,
    csrf: &str,
    challenge: &str,
    answer: &Value,
    next: Option<&str>,
) -> (u16, Value) {
    post_json(
        c,
        &fx.srv.url("/login/passkey"),
        csrf,
        &json!({ "challenge": challenge, "credential": answer, "next": next }),
    )
}

/// Signs in with `key` on a fresh client; answers the client and the reply.
pub(crate) fn passkey_login(
    fx: &Fx,
    key: &mut impl AuthenticatorBackend,
    cred_id: &str,
) -> (Client, u16, Value) {
    let c = client();
    let (csrf, challenge, rcr) = login_options(fx, &c, cred_id);
    let answer = serde_json::to_value(key.do_authentication(origin(fx), rcr).unwrap()).unwrap();
    let (status, body) = post_login(fx, &c, &csrf, &challenge, &answer, None);
    (c, status, body)
}

pub(crate) fn logged_in_as(fx: &Fx, c: &Client) -> bool {
    let r = c.get(fx.srv.url("/developers")).send().unwrap();
    r.status() == 200
}

#[test]
fn a_person_adds_a_passkey_and_signs_in_with_it() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, empty) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(empty.contains("You have no passkeys yet."), "{empty}");
    // Opened at 127.0.0.1 with a localhost issuer: the page says where.
    let notice = text_of(&empty, "#passkeys-unavailable").expect("notice");
    assert!(notice.contains(&fx.srv.config.server.issuer), "{notice}");
    let mut key = SoftPasskey::new(true);
    let cred = enrol(&fx, &ada, &mut key, "Ada's laptop");
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(page.contains("Added the passkey Ada"), "said once: {page}");
    assert!(
        page.contains("Ada&#39;s laptop") || page.contains("Ada's laptop"),
        "{page}"
    );
    assert!(page.contains("Never"), "not used yet: {page}");

    // A fresh browser: Sign in with a passkey, back to where it was going.
    let c = client();
    let (csrf, challenge, rcr) = login_options(&fx, &c, &cred);
    assert!(!logged_in_as(&fx, &c));
    let answer = serde_json::to_value(key.do_authentication(origin(&fx), rcr).unwrap()).unwrap();
    let next = "/developers?w=1";
    let (status, body) = post_login(&fx, &c, &csrf, &challenge, &answer, Some(next));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["redirect"], next, "next is kept for the consent flow");
    assert!(logged_in_as(&fx, &c), "the passkey login opened a session");
    // Without `next`, home; an address off-site is not followed.
    let (_, status, body) = passkey_login(&fx, &mut key, &cred);
    assert_eq!((status, body["redirect"].as_str()), (200, Some("/")));
    let c = client();
    let (csrf, challenge, rcr) = login_options(&fx, &c, &cred);
    let answer = serde_json::to_value(key.do_authentication(origin(&fx), rcr).unwrap()).unwrap();
    let (status, body) = post_login(&fx, &c, &csrf, &challenge, &answer, Some("//evil.example/"));
    assert_eq!((status, body["redirect"].as_str()), (200, Some("/")));

    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(!page.contains("Never"), "last used is shown: {page}");
    let actions = audit_actions(&fx);
    assert!(
        actions.contains(&"passkey.added".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"passkey.signed_in".to_string()),
        "{actions:?}"
    );
}

#[test]
fn a_person_removes_a_passkey_and_it_no_longer_signs_in() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let mut key = SoftPasskey::new(true);
    let cred = enrol(&fx, &ada, &mut key, "Old key");
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    // Remove leads to a confirm page whose form posts to the same path.
    let action = attr(&page, "table.passkeys a.danger-link", "href").unwrap();
    let csrf = input_value(&page, "csrf").unwrap();

    // Someone else's passkey is not theirs to remove; no token, no removal.
    let grace = logged_in(&fx.srv, "grace@example.com");
    let grace_csrf = account_csrf(&fx, &grace);
    let r = grace
        .post(fx.srv.url(&action))
        .form(&[("csrf", &grace_csrf)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = ada
        .post(fx.srv.url(&action))
        .form(&[("csrf", "")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(fx.srv.count("passkeys"), 1);

    let r = ada
        .post(fx.srv.url(&action))
        .form(&[("csrf", &csrf)])
        .send()
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/account/passkeys")
    );
    assert_eq!(fx.srv.count("passkeys"), 0);
    assert!(audit_actions(&fx).contains(&"passkey.removed".to_string()));
    // Said once, not again on a reload.
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(page.contains("Removed the passkey Old key."), "{page}");
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(!page.contains("Removed the passkey"), "{page}");
    let (c, status, body) = passkey_login(&fx, &mut key, &cred);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not registered"),
        "{body}"
    );
    assert!(!logged_in_as(&fx, &c));
}

/// A copy of an authenticator (its keys and counter duplicated) signs with
/// a counter that does not advance past the original's: refused, audited,
/// no session.
#[test]
fn a_cloned_authenticator_is_refused_s83() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (mut original, _) = SoftToken::new(true).unwrap();
    let cred = enrol(&fx, &ada, &mut original, "Security key");
    let mut clone = SoftToken::from_cbor(&original.to_cbor().unwrap()).unwrap();
    for _ in 0..2 {
        let (_, status, body) = passkey_login(&fx, &mut original, &cred);
        assert_eq!(status, 200, "{body}");
    }
    let sessions = fx.srv.count("sessions");
    let (c, status, body) = passkey_login(&fx, &mut clone, &cred);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("counter went backwards"),
        "{body}"
    );
    assert!(!logged_in_as(&fx, &c));
    assert_eq!(
        fx.srv.count("sessions"),
        sessions,
        "no session for the clone"
    );
    assert!(audit_actions(&fx).contains(&"passkey.refused".to_string()));
    // The original goes on working.
    let (_, status, _) = passkey_login(&fx, &mut original, &cred);
    assert_eq!(status, 200);
}

/// Ceremonies answer only for the issuer's origin: a registration or a
/// sign-in made for another site is refused and stores nothing.
#[test]
fn a_passkey_from_another_origin_is_refused_s84() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let csrf = account_csrf(&fx, &ada);
    let mut key = SoftPasskey::new(true);
    let evil = Url::parse("http://localhost.evil.example:8080").unwrap();
    let (challenge, ccr) = add_options(&fx, &ada, &csrf, "Phished");
    // The authenticator's backend, as a phishing page's script reaches it
    // (a browser's own check of the origin is what the page bypasses).
    let reg = key
        .perform_register(evil.clone(), ccr.public_key, 60_000)
        .unwrap();
    let (status, body) = finish_add(
        &fx,
        &ada,
        &csrf,
        &challenge,
        serde_json::to_value(&reg).unwrap(),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("could not be verified"),
        "{body}"
    );
    assert_eq!(fx.srv.count("passkeys"), 0);

    let cred = enrol(&fx, &ada, &mut key, "Laptop");
    let c = client();
    let (login_csrf, challenge, rcr) = login_options(&fx, &c, &cred);
    let answer = key.perform_auth(evil, rcr.public_key, 60_000).unwrap();
    let answer = serde_json::to_value(answer).unwrap();
    let (status, body) = post_login(&fx, &c, &login_csrf, &challenge, &answer, None);
    assert_eq!(status, 403, "{body}");
    assert!(!logged_in_as(&fx, &c));
}

/// A challenge answers once, within five minutes, for the session or
/// login page that asked: a replayed answer, an expired challenge and
/// another person's challenge are refused and store nothing.
#[test]
fn a_passkey_challenge_is_single_use_bound_and_expires_s85() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let csrf = account_csrf(&fx, &ada);
    let mut key = SoftPasskey::new(true);

    // Replayed registration.
    let (challenge, ccr) = add_options(&fx, &ada, &csrf, "Laptop");
    let reg = serde_json::to_value(key.do_registration(origin(&fx), ccr).unwrap()).unwrap();
    assert_eq!(finish_add(&fx, &ada, &csrf, &challenge, reg.clone()).0, 200);
    let (status, body) = finish_add(&fx, &ada, &csrf, &challenge, reg.clone());
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("expired or was already used"),
        "{body}"
    );
    assert_eq!(fx.srv.count("passkeys"), 1);
    let cred = reg["id"].as_str().unwrap().to_string();

    // Another person's challenge (Grace answers Ada's).
    let (challenge, ccr) = add_options(&fx, &ada, &csrf, "Phone");
    let mut other = SoftPasskey::new(true);
    let reg = serde_json::to_value(other.do_registration(origin(&fx), ccr).unwrap()).unwrap();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let grace_csrf = account_csrf(&fx, &grace);
    let (status, body) = finish_add(&fx, &grace, &grace_csrf, &challenge, reg);
    assert_eq!(status, 400, "{body}");
    assert_eq!(fx.srv.count("passkeys"), 1);

    // An expired challenge.
    let (challenge, ccr) = add_options(&fx, &ada, &csrf, "Tablet");
    let reg = serde_json::to_value(other.do_registration(origin(&fx), ccr).unwrap()).unwrap();
    expire_challenges(&fx);
    let (status, body) = finish_add(&fx, &ada, &csrf, &challenge, reg);
    assert_eq!(status, 400, "{body}");
    assert_eq!(fx.srv.count("passkeys"), 1);

    // A replayed sign-in: the second use of the same answer opens nothing.
    let c = client();
    let (login_csrf, challenge, rcr) = login_options(&fx, &c, &cred);
    let answer = serde_json::to_value(key.do_authentication(origin(&fx), rcr).unwrap()).unwrap();
    assert_eq!(
        post_login(&fx, &c, &login_csrf, &challenge, &answer, None).0,
        200
    );
    let thief = client();
    let (thief_csrf, _, _) = login_options(&fx, &thief, &cred);
    let (status, body) = post_login(&fx, &thief, &thief_csrf, &challenge, &answer, None);
    assert_eq!(status, 400, "{body}");
    assert!(!logged_in_as(&fx, &thief));
    let (status, _) = post_login(&fx, &c, &login_csrf, &challenge, &answer, None);
    assert_eq!(status, 400, "the same page cannot replay it either");

    // An expired sign-in challenge.
    let c = client();
    let (login_csrf, challenge, rcr) = login_options(&fx, &c, &cred);
    let answer = serde_json::to_value(key.do_authentication(origin(&fx), rcr).unwrap()).unwrap();
    expire_challenges(&fx);
    let (status, body) = post_login(&fx, &c, &login_csrf, &challenge, &answer, None);
    assert_eq!(status, 400, "{body}");
    assert!(!logged_in_as(&fx, &c));
}

/// A base64url value with one byte changed in the middle.
fn damaged(v: &Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = b64.decode(v.as_str().unwrap()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    b64.encode(bytes)
}

pub(crate) fn expire_challenges(fx: &Fx) {
    use diesel::prelude::*;
    diesel::sql_query("UPDATE passkey_challenges SET expires_at = 0")
        .execute(&mut fx.srv.conn())
        .unwrap();
}

/// The endpoints take JSON with the page's CSRF token in `X-CSRF-Token`;
/// a malformed attestation or assertion is a 400 in JSON, nothing stored;
/// failed passkey sign-ins count toward the login throttle.
#[test]
fn passkey_endpoints_refuse_bad_input_and_count_failures_s86() {
    let fx = fixture_with(|c| {
        c.server.issuer = c.server.issuer.replace("127.0.0.1", "localhost");
        c.security.login_max_failures_per_ip = 3;
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let csrf = account_csrf(&fx, &ada);
    let url = fx.srv.url("/account/passkeys/options");
    // No token, a wrong one, a form instead of JSON.
    for token in ["", "nope"] {
        let (status, body) = post_json(&ada, &url, token, &json!({ "name": "x" }));
        assert_eq!(status, 403, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
    let r = ada
        .post(&url)
        .header("x-csrf-token", &csrf)
        .form(&[("name", "x")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let (status, body) = post_json(&ada, &url, &csrf, &json!({ "name": "  " }));
    assert_eq!(status, 400, "{body}");
    assert_eq!(fx.srv.count("passkey_challenges"), 0);

    // A malformed attestation: the attestation object's bytes damaged.
    let mut key = SoftPasskey::new(true);
    let (challenge, ccr) = add_options(&fx, &ada, &csrf, "Laptop");
    let mut reg = serde_json::to_value(key.do_registration(origin(&fx), ccr).unwrap()).unwrap();
    reg["response"]["attestationObject"] = json!("AAAAAAAAAAAA");
    let (status, body) = finish_add(&fx, &ada, &csrf, &challenge, reg);
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string());
    let (challenge, _) = add_options(&fx, &ada, &csrf, "Laptop");
    let (status, body) = finish_add(&fx, &ada, &csrf, &challenge, json!({ "id": 5 }));
    assert_eq!(status, 400, "{body}");
    assert_eq!(fx.srv.count("passkeys"), 0);

    // Sign-ins: a malformed assertion, then bad signatures, until the
    // address is throttled.
    let cred = enrol(&fx, &ada, &mut key, "Laptop");
    let c = client();
    let (login_csrf, challenge, _) = login_options(&fx, &c, &cred);
    let (status, body) = post_login(&fx, &c, &login_csrf, &challenge, &json!("garbage"), None);
    assert_eq!(status, 400, "{body}");
    let r = c
        .post(fx.srv.url("/login/passkey/options"))
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403, "no token, no ceremony");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (login_csrf, challenge, rcr) = login_options(&fx, &c, &cred);
        let mut answer =
            serde_json::to_value(key.do_authentication(origin(&fx), rcr).unwrap()).unwrap();
        answer["response"]["signature"] = json!(damaged(&answer["response"]["signature"]));
        statuses.push(post_login(&fx, &c, &login_csrf, &challenge, &answer, None).0);
    }
    assert_eq!(
        statuses,
        [403, 403, 429],
        "the fourth failure from the address is throttled"
    );
    let (login_csrf, challenge, rcr) = login_options(&fx, &c, &cred);
    let answer = serde_json::to_value(key.do_authentication(origin(&fx), rcr).unwrap()).unwrap();
    let (status, body) = post_login(&fx, &c, &login_csrf, &challenge, &answer, None);
    assert_eq!(status, 429, "a good passkey waits too: {body}");
    assert!(!logged_in_as(&fx, &c));
    // The password form shares the throttle.
    let r = login(&fx.srv, &client(), "ada@example.com", PASSWORD, None);
    assert_eq!(r.status(), 429);
}

/// With an IP-address issuer (the default `http://127.0.0.1:8080`)
/// browsers refuse passkeys: the page says so and the options are refused.
#[test]
fn passkeys_explain_an_ip_address_issuer() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (status, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert_eq!(status, 200);
    let why = text_of(&page, "#passkeys-unavailable").expect("notice");
    assert!(why.contains("localhost"), "{why}");
    let csrf = attr(&page, "#passkey-add", "data-csrf").unwrap();
    let (status, body) = post_json(
        &ada,
        &fx.srv.url("/account/passkeys/options"),
        &csrf,
        &json!({ "name": "x" }),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("domain name"),
        "{body}"
    );
}
