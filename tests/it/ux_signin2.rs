//! Sign-in round 2 over HTTP (issue 28): passkeys only (password sign-in
//! turned off, S96), a passkey as the second step after a password (S95),
//! **Confirm it's you** with a two-step code or a passkey (S95, S97), and
//! a passkey removal that offers to end the other sessions. webauthn-rs's
//! software authenticator answers as a browser's script would.

use diesel::prelude::*;
use pagegrant::db::schema::sessions;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use webauthn_authenticator_rs::prelude::{RequestChallengeResponse, WebauthnAuthenticator};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::kit::*;
use crate::ux_passkeys::{enrol, expire_challenges, origin, passkey_login, pk_fixture, post_json};

/// Every session's last proof an hour ago: older than `reauth_s`.
fn age_proofs(srv: &TestServer) {
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(sessions::proved_at - 3600))
        .execute(&mut srv.conn())
        .expect("age");
}

fn csrf_of(srv: &TestServer, c: &Client, path: &str) -> String {
    let (status, page) = get_html(c, &srv.url(path));
    assert_eq!(status, 200, "{path}: {page}");
    input_value(&page, "csrf").expect("csrf")
}

/// **Turn off / on password sign-in** on My account → Passkeys.
fn password_sign_in(srv: &TestServer, c: &Client, value: &str) -> Response {
    let csrf = csrf_of(srv, c, "/account/passkeys");
    c.post(srv.url("/account/passkeys/password"))
        .form(&[("csrf", csrf.as_str()), ("password", value)])
        .send()
        .expect("post")
}

/// Options from `url` with `allowCredentials` naming `cred` (the soft
/// authenticator answers only for a credential it is asked about).
fn options_for(c: &Client, url: &str, csrf: &str, cred: &str) -> (u16, String, Value) {
    let (status, start) = post_json(c, url, csrf, &json!({}));
    if status != 200 {
        return (status, String::new(), start);
    }
    let mut options = start["options"].clone();
    options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": cred }]);
    (
        status,
        start["challenge"].as_str().unwrap().to_string(),
        options,
    )
}

fn answer(fx: &Fx, key: &mut SoftPasskey, options: Value) -> Value {
    let rcr: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    serde_json::to_value(key.do_authentication(origin(fx), rcr).unwrap()).unwrap()
}

fn is_logged_in(fx: &Fx, c: &Client) -> bool {
    c.get(fx.srv.url("/developers")).send().unwrap().status() == 200
}

fn audit_has(fx: &Fx, action: &str) -> bool {
    count_rows(
        &mut fx.srv.conn(),
        &format!("audit_events WHERE action = '{action}'"),
    ) > 0
}

/// S96: a person with a passkey turns password sign-in off (CSRF, a
/// recent proof); a password, right or wrong, then opens nothing and reads
/// the same, counted toward the login throttle; their last passkey cannot
/// go; without a passkey it cannot be turned off; turned on again, the
/// password works as before.
#[test]
fn passkeys_only_refuses_the_password_and_keeps_a_way_in_s96() {
    let fx = fixture_with(|c| {
        c.server.issuer = c.server.issuer.replace("127.0.0.1", "localhost");
        c.security.login_max_failures_per_account = 4;
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(
        !page.contains("Turn off password sign-in"),
        "no passkey, no button: {page}"
    );
    // Crafted without a passkey: refused, nothing changed.
    let r = password_sign_in(&fx.srv, &ada, "off");
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("Add a passkey first"));
    assert_eq!(fx.srv.count("password_off"), 0);

    let mut key = SoftPasskey::new(true);
    let cred = enrol(&fx, &ada, &mut key, "Laptop");
    // Without the CSRF token: 403.
    let r = ada
        .post(fx.srv.url("/account/passkeys/password"))
        .form(&[("password", "off")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    // An old proof: Confirm it's you first, nothing changed.
    age_proofs(&fx.srv);
    let r = password_sign_in(&fx.srv, &ada, "off");
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/reauth?next=%2Faccount%2Fpasskeys");
    assert_eq!(fx.srv.count("password_off"), 0);
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(pagegrant::db::models::now()))
        .execute(&mut fx.srv.conn())
        .unwrap();
    let r = password_sign_in(&fx.srv, &ada, "off");
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/account/passkeys")
    );
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(page.contains("Password sign-in is off"), "{page}");
    assert!(audit_has(&fx, "password.sign_in_off"));

    // Confirm it's you refuses her password (counted), as Change password does.
    age_proofs(&fx.srv);
    let (_, page) = get_html(&ada, &fx.srv.url("/account/reauth"));
    let r = ada
        .post(fx.srv.url("/account/reauth"))
        .form(&[
            ("csrf", attr(&page, "#passkey-reauth", "data-csrf").unwrap()),
            ("password", PASSWORD.into()),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let csrf = csrf_of(&fx.srv, &ada, "/account/sessions");
    let r = ada
        .post(fx.srv.url("/account/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", PASSWORD),
            ("new", "a brand new password"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "Change password takes no password either");
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(pagegrant::db::models::now()))
        .execute(&mut fx.srv.conn())
        .unwrap();

    // The password form: right and wrong read the same, no session.
    for pw in [PASSWORD, "wrong password"] {
        let c = client();
        let r = login(&fx.srv, &c, "ada@example.com", pw, None);
        assert_eq!(r.status(), 200);
        let body = r.text().unwrap();
        assert!(body.contains("signs in with a passkey only"), "{body}");
        assert!(!is_logged_in(&fx, &c));
    }
    // All counted (Confirm it's you and Change password too): the limit of
    // 4 is reached, the next is throttled.
    let r = login(&fx.srv, &client(), "ada@example.com", PASSWORD, None);
    assert_eq!(r.status(), 429, "wrong and right passwords both counted");

    // Confirm it's you offers no password, and refuses one.
    let (_, page) = get_html(&ada, &fx.srv.url("/account/reauth"));
    assert!(!has(&page, "input[name=password]"), "{page}");
    assert!(has(&page, "#passkey-reauth"), "{page}");

    // The last passkey cannot go: the confirm page says why, the POST is
    // refused, it stays.
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    let path = attr(&page, "table.passkeys a.danger-link", "href").unwrap();
    let (_, confirm) = get_html(&ada, &fx.srv.url(&path));
    assert!(
        confirm.contains("Turn password sign-in back on first"),
        "{confirm}"
    );
    let csrf = input_value(&confirm, "csrf").unwrap();
    let r = ada
        .post(fx.srv.url(&path))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(fx.srv.count("passkeys"), 1);

    // The passkey still signs in.
    let (_, status, body) = passkey_login(&fx, &mut key, &cred);
    assert_eq!(status, 200, "{body}");

    // Back on (the proof is fresh): the password works again.
    let r = password_sign_in(&fx.srv, &ada, "on");
    assert_eq!(r.status(), 303);
    assert_eq!(fx.srv.count("password_off"), 0);
    assert!(audit_has(&fx, "password.sign_in_on"));
    diesel::sql_query("DELETE FROM auth_failures")
        .execute(&mut fx.srv.conn())
        .unwrap();
    let c = client();
    assert_eq!(
        login(&fx.srv, &c, "ada@example.com", PASSWORD, None).status(),
        303
    );
    // An unknown value is refused.
    let r = password_sign_in(&fx.srv, &ada, "maybe");
    assert_eq!(r.status(), 400);
}

/// S96: an operator's `user reset-2fa` turns password sign-in back on for
/// someone who lost their passkeys.
#[test]
fn reset_2fa_turns_password_sign_in_back_on_s96() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let mut key = SoftPasskey::new(true);
    enrol(&fx, &ada, &mut key, "Lost phone");
    assert_eq!(password_sign_in(&fx.srv, &ada, "off").status(), 303);
    let r = login(&fx.srv, &client(), "ada@example.com", PASSWORD, None);
    assert!(r.text().unwrap().contains("passkey only"));

    let out = pagegrant_on(&fx.srv, &["user", "reset-2fa", "ada@example.com"], None);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Password sign-in of ada@example.com is back on"),
        "{said}"
    );
    assert_eq!(fx.srv.count("password_off"), 0);
    let r = login(&fx.srv, &client(), "ada@example.com", PASSWORD, None);
    assert_eq!(r.status(), 303);
}

/// Turns on two-step verification with a passkey as the second step;
/// answers the ten recovery codes shown.
fn two_step_with_passkey(srv: &TestServer, c: &Client) -> Vec<String> {
    let csrf = csrf_of(srv, c, "/account/two-step");
    let r = c
        .post(srv.url("/account/two-step"))
        .form(&[("csrf", csrf.as_str()), ("action", "passkey")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    assert!(
        page.contains("you confirm with one of your passkeys"),
        "{page}"
    );
    let doc = scraper::Html::parse_document(&page);
    select(&doc, ".codes code")
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect()
}

/// A password login that stops at the second step: the page's CSRF token
/// for the passkey box.
fn to_second_step(fx: &Fx, c: &Client, next: Option<&str>) -> String {
    let r = login(&fx.srv, c, "ada@example.com", PASSWORD, next);
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).starts_with("/login/two-step"),
        "{}",
        location(&r)
    );
    let (status, page) = get_html(c, &fx.srv.url(&location(&r)));
    assert_eq!(status, 200);
    assert!(has(&page, "#passkey-second-step"), "{page}");
    assert!(
        !has(&page, "input[autocomplete=one-time-code]"),
        "no app code: {page}"
    );
    attr(&page, "#passkey-second-step", "data-csrf").unwrap()
}

/// S95: with a passkey as the second step, **Use a passkey** after the
/// password signs in only with one of *that person's* passkeys: another
/// person's, a replayed or an expired challenge, no pending login, no CSRF
/// token, each a clear refusal and no session. The Enterprise policy
/// counts it as enrolled.
#[test]
fn a_passkey_is_the_second_step_and_only_the_persons_own_s95() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    // No passkey: Use a passkey is not offered, and refused if crafted.
    let (_, page) = get_html(&ada, &fx.srv.url("/account/two-step"));
    assert!(!page.contains("Use a passkey"), "{page}");
    let csrf = csrf_of(&fx.srv, &ada, "/account/two-step");
    let r = ada
        .post(fx.srv.url("/account/two-step"))
        .form(&[("csrf", csrf.as_str()), ("action", "passkey")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(fx.srv.count("two_step"), 0);

    let mut ada_key = SoftPasskey::new(true);
    let ada_cred = enrol(&fx, &ada, &mut ada_key, "Ada's key");
    let mut grace_key = SoftPasskey::new(true);
    let grace_cred = enrol(&fx, &grace, &mut grace_key, "Grace's key");
    let codes = two_step_with_passkey(&fx.srv, &ada);
    assert_eq!(codes.len(), 10);
    // The Enterprise policy counts it as enrolled: Ada (an owner) turns
    // it on; Acme asks Grace to enrol, not Ada.
    let acme = format!("/w/{}", fx.acme.id);
    let csrf = csrf_of(&fx.srv, &ada, &format!("{acme}/settings/connections"));
    let r = ada
        .post(fx.srv.url(&format!("{acme}/settings/enterprise")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "two_step"),
            ("require_two_step", "on"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = get_html(&ada, &fx.srv.url(&acme));
    assert!(!has(&page, ".two-step-banner"), "Ada is enrolled: {page}");
    let (_, page) = get_html(&grace, &fx.srv.url(&acme));
    assert!(has(&page, ".two-step-banner"), "Grace is not: {page}");

    let opts = fx.srv.url("/login/two-step/passkey/options");
    let done = fx.srv.url("/login/two-step/passkey");
    let c = client();
    let csrf = to_second_step(&fx, &c, Some("/developers"));
    // Only Ada's passkeys are offered.
    let (status, start) = post_json(&c, &opts, &csrf, &json!({}));
    assert_eq!(status, 200, "{start}");
    let allowed = start["options"]["publicKey"]["allowCredentials"].clone();
    assert_eq!(allowed.as_array().unwrap().len(), 1, "{allowed}");
    assert_eq!(allowed[0]["id"], ada_cred.as_str());

    // Grace's passkey answering Ada's second step: refused, no session.
    let (_, challenge, options) = options_for(&c, &opts, &csrf, &grace_cred);
    let wrong = answer(&fx, &mut grace_key, options);
    let (status, body) = post_json(
        &c,
        &done,
        &csrf,
        &json!({"challenge": challenge, "credential": wrong}),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not one of yours"),
        "{body}"
    );
    assert!(!is_logged_in(&fx, &c));

    // No CSRF token: 403, and the challenge is not spent.
    let (_, challenge, options) = options_for(&c, &opts, &csrf, &ada_cred);
    let right = answer(&fx, &mut ada_key, options);
    let body = json!({"challenge": challenge, "credential": right, "next": "/developers"});
    let r = c.post(&done).json(&body).send().unwrap();
    assert_eq!(r.status(), 403);
    assert!(!is_logged_in(&fx, &c));

    // Ada's own passkey: signed in, on to `next`.
    let (status, reply) = post_json(&c, &done, &csrf, &body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["redirect"], "/developers");
    assert!(is_logged_in(&fx, &c));
    // Replayed, even on a new pending login: refused.
    let c2 = client();
    let csrf2 = to_second_step(&fx, &c2, None);
    let (status, reply) = post_json(&c2, &done, &csrf2, &body);
    assert_eq!(status, 400, "{reply}");
    assert!(reply["error"]
        .as_str()
        .unwrap()
        .contains("expired or was already used"));
    assert!(!is_logged_in(&fx, &c2));
    // Expired.
    let (_, challenge, options) = options_for(&c2, &opts, &csrf2, &ada_cred);
    let late = answer(&fx, &mut ada_key, options);
    expire_challenges(&fx);
    let (status, _) = post_json(
        &c2,
        &done,
        &csrf2,
        &json!({"challenge": challenge, "credential": late}),
    );
    assert_eq!(status, 400);
    assert!(!is_logged_in(&fx, &c2));
    // No pending login at all: a clear refusal.
    let fresh = client();
    let (_, page) = get_html(&fresh, &fx.srv.url("/login"));
    let login_csrf = input_value(&page, "csrf").unwrap();
    let (status, reply) = post_json(&fresh, &opts, &login_csrf, &json!({}));
    assert_eq!(status, 400, "{reply}");
    assert!(reply["error"]
        .as_str()
        .unwrap()
        .contains("Sign in with your password again"));

    // A recovery code still works as the second step.
    let c3 = client();
    to_second_step(&fx, &c3, None);
    let (_, page) = get_html(&c3, &fx.srv.url("/login/two-step"));
    let r = c3
        .post(fx.srv.url("/login/two-step"))
        .form(&[
            ("csrf", input_value(&page, "csrf").unwrap()),
            ("code", codes[0].clone()),
            ("recovery", "1".into()),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(is_logged_in(&fx, &c3));
    // Her last passkey is her second step: it cannot go.
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    let path = attr(&page, "table.passkeys a.danger-link", "href").unwrap();
    let (_, confirm) = get_html(&ada, &fx.srv.url(&path));
    assert!(
        confirm.contains("your two-step verification uses it"),
        "{confirm}"
    );
}

/// **Confirm it's you** with a code: posts `code` instead of a password.
fn confirm_with_code(srv: &TestServer, c: &Client, code: &str) -> Response {
    let (_, page) = get_html(c, &srv.url("/account/reauth?next=%2Faccount%2Fsessions"));
    c.post(srv.url("/account/reauth"))
        .form(&[
            ("csrf", input_value(&page, "csrf").unwrap()),
            ("code", code.to_string()),
            ("next", "/account/sessions".into()),
        ])
        .send()
        .unwrap()
}

/// Whether the session's proof is recent (a guarded page opens).
fn proof_is_fresh(fx: &Fx, c: &Client) -> bool {
    let r = c.get(fx.srv.url("/developers")).send().unwrap();
    assert_eq!(r.status(), 200);
    let proved: i64 = sessions::table
        .select(diesel::dsl::max(sessions::proved_at))
        .first::<Option<i64>>(&mut fx.srv.conn())
        .unwrap()
        .unwrap_or(0);
    pagegrant::db::models::now() - proved < 60
}

/// S97: **Confirm it's you** takes a two-step code (each accepted once) or
/// a recovery code; wrong codes count toward the login throttle, past it
/// even a right one is refused.
#[test]
fn confirm_its_you_takes_a_two_step_code_and_counts_wrong_ones_s97() {
    let fx = fixture_with(|c| c.security.login_max_failures_per_account = 3);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let enrolled = crate::ux_twostep::enrol(&fx.srv, &ada);
    age_proofs(&fx.srv);
    let (_, page) = get_html(&ada, &fx.srv.url("/account/reauth"));
    assert!(has(&page, "input[name=password]"));
    assert!(has(&page, "input[name=code]"), "{page}");
    assert!(!has(&page, "#passkey-reauth"), "no passkey, none offered");

    // The code that confirmed enrolment was used: refused, still old.
    let r = confirm_with_code(&fx.srv, &ada, &enrolled.confirmed_with);
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("That code is not right"));
    let next = crate::ux_twostep::code_at(&enrolled.secret, enrolled.at + 30);
    let r = confirm_with_code(&fx.srv, &ada, &next);
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/account/sessions")
    );
    assert!(proof_is_fresh(&fx, &ada));
    // A recovery code works too (once).
    age_proofs(&fx.srv);
    let r = confirm_with_code(&fx.srv, &ada, &enrolled.codes[0]);
    assert_eq!(r.status(), 303);
    age_proofs(&fx.srv);
    let r = confirm_with_code(&fx.srv, &ada, &enrolled.codes[0]);
    assert_eq!(r.status(), 401, "a recovery code works once");
    // Wrong codes count: with the one above, two more reach the limit.
    for _ in 0..2 {
        assert_eq!(confirm_with_code(&fx.srv, &ada, "000000").status(), 401);
    }
    let r = confirm_with_code(&fx.srv, &ada, &enrolled.codes[1]);
    assert_eq!(r.status(), 429, "throttled, even with a right code");
    // CSRF.
    let r = ada
        .post(fx.srv.url("/account/reauth"))
        .form(&[("code", enrolled.codes[1].as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// S95, S97: **Confirm it's you** with a passkey accepts only the signed-in
/// person's own, once, within five minutes, for this session; refused
/// passkeys count toward the throttle.
#[test]
fn confirm_its_you_with_a_passkey_only_ones_own_s95_s97() {
    let fx = fixture_with(|c| {
        c.server.issuer = c.server.issuer.replace("127.0.0.1", "localhost");
        c.security.login_max_failures_per_account = 3;
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let mut ada_key = SoftPasskey::new(true);
    let ada_cred = enrol(&fx, &ada, &mut ada_key, "Ada's key");
    let mut grace_key = SoftPasskey::new(true);
    let grace_cred = enrol(&fx, &grace, &mut grace_key, "Grace's key");
    age_proofs(&fx.srv);
    let (_, page) = get_html(
        &ada,
        &fx.srv.url("/account/reauth?next=%2Faccount%2Fpasskeys"),
    );
    let csrf = attr(&page, "#passkey-reauth", "data-csrf").expect("Use a passkey offered");
    let opts = fx.srv.url("/account/reauth/passkey/options");
    let done = fx.srv.url("/account/reauth/passkey");

    // Grace's passkey for Ada's proof: refused, still old.
    let (_, ch, options) = options_for(&ada, &opts, &csrf, &grace_cred);
    let wrong = answer(&fx, &mut grace_key, options);
    let (status, body) = post_json(
        &ada,
        &done,
        &csrf,
        &json!({"challenge": ch, "credential": wrong}),
    );
    assert_eq!(status, 403, "{body}");
    assert!(!proof_is_fresh(&fx, &ada));
    // Grace cannot answer Ada's challenge with Ada's answer either (bound).
    let (_, ch, options) = options_for(&ada, &opts, &csrf, &ada_cred);
    let right = answer(&fx, &mut ada_key, options);
    let grace_csrf = csrf_of(&fx.srv, &grace, "/account/sessions");
    let body = json!({"challenge": ch, "credential": right, "next": "/account/passkeys"});
    let (status, _) = post_json(&grace, &done, &grace_csrf, &body);
    assert_eq!(status, 400, "another session's challenge");
    // Without CSRF: 403.
    let r = ada.post(&done).json(&body).send().unwrap();
    assert_eq!(r.status(), 403);

    // Ada's own, fresh challenge: proved, on to `next`.
    let (_, ch, options) = options_for(&ada, &opts, &csrf, &ada_cred);
    let right = answer(&fx, &mut ada_key, options);
    let body = json!({"challenge": ch, "credential": right, "next": "/account/passkeys"});
    let (status, reply) = post_json(&ada, &done, &csrf, &body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["redirect"], "/account/passkeys");
    assert!(proof_is_fresh(&fx, &ada));
    // Replayed: refused.
    age_proofs(&fx.srv);
    let (status, _) = post_json(&ada, &done, &csrf, &body);
    assert_eq!(status, 400);
    // Expired.
    let (_, ch, options) = options_for(&ada, &opts, &csrf, &ada_cred);
    let late = answer(&fx, &mut ada_key, options);
    expire_challenges(&fx);
    let (status, _) = post_json(
        &ada,
        &done,
        &csrf,
        &json!({"challenge": ch, "credential": late}),
    );
    assert_eq!(status, 400);
    assert!(!proof_is_fresh(&fx, &ada));
    // Refusals count: the right one cleared the counter; the replay, the
    // expired one and Grace's passkey again reach the limit of 3, so the
    // next attempt is throttled, even Ada's own passkey.
    let (_, ch, options) = options_for(&ada, &opts, &csrf, &grace_cred);
    let wrong = answer(&fx, &mut grace_key, options);
    let (status, _) = post_json(
        &ada,
        &done,
        &csrf,
        &json!({"challenge": ch, "credential": wrong}),
    );
    assert_eq!(status, 403);
    let (_, ch, options) = options_for(&ada, &opts, &csrf, &ada_cred);
    let right = answer(&fx, &mut ada_key, options);
    let (status, _) = post_json(
        &ada,
        &done,
        &csrf,
        &json!({"challenge": ch, "credential": right}),
    );
    assert_eq!(status, 429);
}

/// Removing a passkey offers to end the other sessions (ticked), as
/// Change password does; unticked, they stay.
#[test]
fn removing_a_passkey_offers_to_end_the_other_sessions() {
    let fx = pk_fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let other = logged_in(&fx.srv, "ada@example.com");
    let mut k1 = SoftPasskey::new(true);
    let mut k2 = SoftPasskey::new(true);
    enrol(&fx, &ada, &mut k1, "Old phone");
    enrol(&fx, &ada, &mut k2, "Laptop");
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    let paths = attrs(&page, "table.passkeys a.danger-link", "href");
    assert_eq!(paths.len(), 2);

    // Unticked: removed, the other session stays.
    let (_, confirm) = get_html(&ada, &fx.srv.url(&paths[1]));
    assert_eq!(
        checked(&confirm, "end_others", "1"),
        Some(true),
        "{confirm}"
    );
    let csrf = input_value(&confirm, "csrf").unwrap();
    let r = ada
        .post(fx.srv.url(&paths[1]))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(is_logged_in(&fx, &other));
    // Ticked: removed, the other session ends, this one stays.
    let (_, confirm) = get_html(&ada, &fx.srv.url(&paths[0]));
    assert!(
        text_of(&confirm, "h1")
            .unwrap()
            .starts_with("Remove the passkey "),
        "{confirm}"
    );
    let r = ada
        .post(fx.srv.url(&paths[0]))
        .form(&[("csrf", csrf.as_str()), ("end_others", "1")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(fx.srv.count("passkeys"), 0);
    assert!(!is_logged_in(&fx, &other));
    assert!(is_logged_in(&fx, &ada));
    let (_, page) = get_html(&ada, &fx.srv.url("/account/passkeys"));
    assert!(page.contains("Your other sessions have ended."), "{page}");
    assert!(audit_has(&fx, "sessions.ended_others"));
}
