//! Two-step verification over HTTP (issue 28 items 2 and 3): enrolment,
//! the login's second step (S87), recovery codes (S88), the throttle
//! (S89), the Enterprise policy's gates (S90) and `user reset-2fa`.

use diesel::prelude::*;
use pagegrant::db::models::Role;
use reqwest::blocking::{Client, Response};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::kit::*;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The code an authenticator app shows at `t` for the base32 `secret`.
pub fn code_at(secret: &str, t: u64) -> String {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .expect("base32");
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new())
        .expect("totp")
        .generate(t)
}

fn account(srv: &TestServer, c: &Client) -> String {
    let (status, page) = get_html(c, &srv.url("/account/two-step"));
    assert_eq!(status, 200, "{page}");
    page
}

fn post_account(srv: &TestServer, c: &Client, action: &str, code: &str) -> (u16, String) {
    let page = account(srv, c);
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = c
        .post(srv.url("/account/two-step"))
        .form(&[("csrf", csrf.as_str()), ("action", action), ("code", code)])
        .send()
        .expect("post");
    (r.status().as_u16(), r.text().expect("body"))
}

/// Someone enrolled: the secret as the page shows it in text, the code
/// that confirmed it and its time, and the ten recovery codes.
pub struct Enrolled {
    pub secret: String,
    pub confirmed_with: String,
    pub at: u64,
    pub codes: Vec<String>,
}

/// Set up, read the secret off the page, confirm with the current code.
pub fn enrol(srv: &TestServer, c: &Client) -> Enrolled {
    let (status, _) = post_account(srv, c, "start", "");
    assert_eq!(status, 303, "Set up, then back to the page");
    let page = account(srv, c);
    let secret = text_of(&page, "#two-step-secret").expect("the secret in text");
    assert!(
        has(&page, "img.qr[src^='data:image/png;base64,']"),
        "QR code"
    );
    let at = unix_now();
    let code = code_at(&secret, at);
    let (status, page) = post_account(srv, c, "confirm", &code);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Two-step verification is on"), "{page}");
    let doc = scraper::Html::parse_document(&page);
    let codes: Vec<String> = select(&doc, ".codes code")
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes shown once");
    // Shown once: the page again lists none.
    assert!(!has(&account(srv, c), ".codes code"));
    Enrolled {
        secret,
        confirmed_with: code,
        at,
        codes,
    }
}

/// Posts the second step's form with `code`.
fn second_step(srv: &TestServer, c: &Client, code: &str, next: Option<&str>) -> Response {
    let url = match next {
        Some(n) => format!(
            "/login/two-step?next={}",
            pagegrant::http::errors::url_encode(n)
        ),
        None => "/login/two-step".into(),
    };
    let (status, page) = get_html(c, &srv.url(&url));
    assert_eq!(status, 200, "second-step page");
    let mut form = vec![
        ("csrf", input_value(&page, "csrf").expect("csrf")),
        ("code", code.to_string()),
    ];
    if let Some(n) = next {
        form.push(("next", n.to_string()));
    }
    c.post(srv.url("/login/two-step"))
        .form(&form)
        .send()
        .expect("post")
}

fn logged_in_now(srv: &TestServer, c: &Client) -> bool {
    c.get(srv.url("/account/two-step"))
        .send()
        .expect("get")
        .status()
        == 200
}

/// S87: the password alone starts no session; the second step does, with
/// `next` kept; a replayed code and one from 5 minutes ago are refused;
/// the pending login is single-use.
#[test]
fn two_step_login_needs_a_fresh_code_and_keeps_next_s87() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let e = enrol(&fx.srv, &ada);

    let c = client();
    let next = format!("/w/{}", fx.acme.id);
    let r = login(&fx.srv, &c, "ada@example.com", PASSWORD, Some(&next));
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).starts_with("/login/two-step?next="),
        "{}",
        location(&r)
    );
    assert!(
        !logged_in_now(&fx.srv, &c),
        "no session after the password alone"
    );
    let (_, page) = get_html(&c, &fx.srv.url(&location(&r)));
    assert!(page.contains("Two-step verification"));
    assert!(page.contains("Use a recovery code"));

    let old = code_at(&e.secret, unix_now() - 300);
    let r = second_step(&fx.srv, &c, &old, Some(&next));
    assert_eq!(r.status(), 200, "a code from 5 minutes ago is refused");
    assert!(r.text().expect("body").contains("That code is not right"));
    // The code that confirmed the enrolment: its time step was used.
    let r = second_step(&fx.srv, &c, &e.confirmed_with, Some(&next));
    assert_eq!(r.status(), 200, "a replayed code is refused");
    assert!(!logged_in_now(&fx.srv, &c));

    let fresh = code_at(&e.secret, e.at + 30);
    let r = second_step(&fx.srv, &c, &fresh, Some(&next));
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), next, "next survives the second step");
    assert!(logged_in_now(&fx.srv, &c));

    // The pending login is gone: its page sends back to the password.
    let r = c.get(fx.srv.url("/login/two-step")).send().expect("get");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));

    // Another browser without the pending cookie cannot take the step.
    let other = client();
    let r = other
        .get(fx.srv.url("/login/two-step"))
        .send()
        .expect("get");
    assert_eq!(location(&r), "/login");
}

/// S88: recovery codes work once, only for their owner; a TOTP code of
/// another person is refused too.
#[test]
fn recovery_codes_are_single_use_and_personal_s88() {
    let fx = fixture();
    let ada = enrol(&fx.srv, &logged_in(&fx.srv, "ada@example.com"));
    let grace = enrol(&fx.srv, &logged_in(&fx.srv, "grace@example.com"));

    let c = client();
    assert_eq!(
        login(&fx.srv, &c, "grace@example.com", PASSWORD, None).status(),
        303
    );
    // Ada's recovery code and Ada's current code: not Grace's.
    let r = second_step(&fx.srv, &c, &ada.codes[0], None);
    assert_eq!(r.status(), 200, "another person's recovery code");
    let r = second_step(&fx.srv, &c, &code_at(&ada.secret, ada.at + 30), None);
    assert_eq!(r.status(), 200, "another person's TOTP code");
    assert!(!logged_in_now(&fx.srv, &c));
    // Grace's own recovery code, typed in upper case with spaces.
    let typed = grace.codes[3].to_uppercase().replace('-', " ");
    let r = second_step(&fx.srv, &c, &typed, None);
    assert_eq!(r.status(), 303);
    assert!(logged_in_now(&fx.srv, &c));
    let page = account(&fx.srv, &c);
    assert!(page.contains("9 unused recovery codes"), "{page}");

    // The same code again, in a new login: refused.
    let c2 = client();
    assert_eq!(
        login(&fx.srv, &c2, "grace@example.com", PASSWORD, None).status(),
        303
    );
    let r = second_step(&fx.srv, &c2, &grace.codes[3], None);
    assert_eq!(r.status(), 200, "a used recovery code");
    assert!(!logged_in_now(&fx.srv, &c2));
    assert!(audit_actions(&fx)
        .iter()
        .any(|a| a == "two_step.recovery_used"));

    // New recovery codes: the old ones stop working.
    let (status, page) = post_account(&fx.srv, &c, "renew", "");
    assert_eq!(status, 200);
    assert!(page.contains("Your recovery codes"));
    let r = second_step(&fx.srv, &c2, &grace.codes[4], None);
    assert_eq!(r.status(), 200, "a code from before the renewal");
    let actions = audit_actions(&fx);
    for a in ["two_step.enabled", "two_step.codes_renewed"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
}

/// S89: wrong codes count toward the same throttle as wrong passwords; a
/// throttled second step says how long, and even the right code waits.
#[test]
fn wrong_codes_count_toward_the_login_throttle_s89() {
    let fx = fixture_with(|c| c.security.login_max_failures_per_account = 4);
    let e = enrol(&fx.srv, &logged_in(&fx.srv, "ada@example.com"));
    let c = client();
    // The password takes one unit, kept until the second step succeeds.
    assert_eq!(
        login(&fx.srv, &c, "ada@example.com", PASSWORD, None).status(),
        303
    );
    for _ in 0..3 {
        let r = second_step(&fx.srv, &c, "000000", None);
        assert_eq!(r.status(), 200);
    }
    let r = second_step(&fx.srv, &c, &code_at(&e.secret, e.at + 30), None);
    assert_eq!(r.status(), 429, "throttled, right code or not");
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().expect("body").contains("Try again in"));
    assert!(!logged_in_now(&fx.srv, &c));
    // The password is throttled too: one budget for both steps.
    let r = login(&fx.srv, &client(), "ada@example.com", PASSWORD, None);
    assert_eq!(r.status(), 429);
}

/// Turning it off asks for a code or the password; a wrong one changes
/// nothing; after, the password alone signs in again.
#[test]
fn turning_off_needs_a_code_or_the_password() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    enrol(&fx.srv, &ada);
    let (status, page) = post_account(&fx.srv, &ada, "off", "not my password");
    assert_eq!(status, 400);
    assert!(page.contains("Nothing changed"));
    let (status, page) = post_account(&fx.srv, &ada, "off", PASSWORD);
    assert_eq!(status, 200);
    assert!(page.contains("Two-step verification is off"));
    assert!(audit_actions(&fx).iter().any(|a| a == "two_step.disabled"));
    let r = login(&fx.srv, &client(), "ada@example.com", PASSWORD, None);
    assert_eq!(location(&r), "/");
}

/// The account page is for logged-in people and its forms carry CSRF.
#[test]
fn the_account_page_needs_a_login_and_csrf() {
    let fx = fixture();
    let r = client()
        .get(fx.srv.url("/account/two-step"))
        .send()
        .expect("get");
    assert_eq!(r.status(), 303);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let r = ada
        .post(fx.srv.url("/account/two-step"))
        .form(&[("csrf", "forged"), ("action", "start")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(fx.srv.count("two_step"), 0);
    let (status, _) = post_account(&fx.srv, &ada, "nonsense", "");
    assert_eq!(status, 400);
}

fn policy(fx: &Fx, c: &Client, on: bool) -> Response {
    let csrf = csrf_of(fx, c);
    let mut form = vec![("csrf", csrf.as_str()), ("action", "two_step")];
    if on {
        form.push(("require_two_step", "on"));
    }
    c.post(
        fx.srv
            .url(&format!("/w/{}/settings/enterprise", fx.acme.id)),
    )
    .form(&form)
    .send()
    .expect("post")
}

fn connection_of(fx: &Fx, user: &pagegrant::db::models::User) -> String {
    use pagegrant::db::schema::connections;
    connections::table
        .filter(connections::installed_by.eq(&user.id))
        .filter(connections::workspace_id.eq(&fx.acme.id))
        .select(connections::id)
        .first::<String>(&mut fx.srv.conn())
        .expect("connection")
}

fn post_ws(fx: &Fx, c: &Client, path: &str) -> Response {
    let csrf = csrf_of(fx, c);
    c.post(fx.srv.url(&format!("/w/{}{path}", fx.acme.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post")
}

fn assert_refused(r: Response, what: &str) {
    assert_eq!(r.status(), 403, "{what}");
    let body = r.text().expect("body");
    assert!(
        body.contains("requires two-step verification") && body.contains("/account/two-step"),
        "{what}: {body}"
    );
}

/// S90: with **Require two-step verification** on, a member without it
/// cannot allow access, disconnect, change a page's connections or copy a
/// token; the consent page and the workspace say why; once enrolled, each
/// works.
#[test]
fn the_enterprise_policy_gates_consent_connections_and_tokens_s90() {
    let fx = fixture();
    let ws = fx.acme.id.to_string();
    connect(&fx, "grace@example.com", &ws, &[&fx.eng]);
    let internal = pagegrant::domain::connections::create_internal(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &fx.acme,
        Role::Owner,
        &fx.ada.id,
        "Ops bot",
    )
    .expect("internal");
    let internal_id = internal.connection_id.expect("connection").to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");

    // Only an Enterprise owner sets it; a member cannot.
    assert_eq!(policy(&fx, &grace, true).status(), 403);
    let r = policy(&fx, &ada, true);
    assert_eq!(r.status(), 303);
    assert!(audit_actions(&fx)
        .iter()
        .any(|a| a == "policy.two_step_required"));
    let (_, settings) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/connections")));
    assert_eq!(checked(&settings, "require_two_step", "on"), Some(true));

    // The banner at the next visit.
    let (_, home) = get_html(&grace, &fx.srv.url(&format!("/w/{ws}")));
    assert!(
        has(&home, ".two-step-banner a[href='/account/two-step']"),
        "{home}"
    );

    // Consent: the page says why and disables Allow access; the POST is refused.
    let params = [
        ("client_id", fx.conf.integration.client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", CB),
        ("workspace_id", ws.as_str()),
    ];
    let page = consent_page(&fx, &grace, &params);
    assert!(page.contains("requires two-step verification"), "{page}");
    assert!(has(&page, "button[value='allow'][disabled]"));
    assert_refused(
        answer(&fx, &grace, &page, "allow", &[&fx.eng.id.to_string()]),
        "consent",
    );

    // Connections: disconnect and the page menu.
    let grace_conn = connection_of(&fx, &fx.grace);
    let disconnect = format!("/settings/connections/{grace_conn}/disconnect");
    assert_refused(post_ws(&fx, &grace, &disconnect), "disconnect");
    let csrf = csrf_of(&fx, &grace);
    let r = grace
        .post(
            fx.srv
                .url(&format!("/w/{ws}/p/{}/connections/remove", fx.eng.id)),
        )
        .form(&[
            ("csrf", csrf.as_str()),
            ("connection_id", grace_conn.as_str()),
        ])
        .send()
        .expect("post");
    assert_refused(r, "page ••• disconnect");

    // Tokens: the owner without two-step verification cannot copy one.
    let token = format!("/settings/connections/{internal_id}/token");
    assert_refused(post_ws(&fx, &ada, &token), "token copy");
    assert_eq!(
        fx.srv
            .count("audit_events WHERE action = 'token.retrieved'"),
        0
    );

    // After enrolling, each is allowed.
    enrol(&fx.srv, &ada);
    assert_eq!(
        post_ws(&fx, &ada, &token).status(),
        200,
        "token copy allowed"
    );
    enrol(&fx.srv, &grace);
    let (_, home) = get_html(&grace, &fx.srv.url(&format!("/w/{ws}")));
    assert!(!has(&home, ".two-step-banner"));
    let page = consent_page(&fx, &grace, &params);
    assert!(!has(&page, "button[value='allow'][disabled]"));
    let r = answer(&fx, &grace, &page, "allow", &[&fx.eng.id.to_string()]);
    assert_eq!(r.status(), 303, "consent allowed");
    assert!(location(&r).starts_with(CB));
    assert_eq!(
        post_ws(&fx, &grace, &disconnect).status(),
        303,
        "disconnect allowed"
    );

    // Off again: recorded, and members without it are no longer refused.
    assert_eq!(policy(&fx, &ada, false).status(), 303);
    let n = audit_actions(&fx)
        .iter()
        .filter(|a| *a == "policy.two_step_required")
        .count();
    assert_eq!(n, 2);
}

/// `pagegrant user reset-2fa EMAIL`: turns it off (audited), `--json`
/// prints one object, an unknown address fails with a message.
#[test]
fn cli_reset_2fa_turns_it_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = pagegrant(
        d,
        &[
            "user",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conn = pagegrant::db::connect(&cli_db(d)).expect("open");
    let user = pagegrant::domain::accounts::find_user(&mut conn, "ada@example.com").expect("ada");
    pagegrant::db::queries::two_step::put(
        &mut conn,
        &pagegrant::db::models::TwoStep {
            user_id: user.id.clone(),
            secret_sealed: "sealed".into(),
            created_at: 1,
            enabled_at: Some(1),
            last_step: 0,
            method: pagegrant::db::models::TwoStepMethod::Totp,
        },
    )
    .expect("two-step on");
    let out = pagegrant(d, &["user", "reset-2fa", "ada@example.com", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["two_step_was_on"], true);
    assert_eq!(v["email"], "ada@example.com");
    assert!(!pagegrant::db::queries::two_step::enabled(&mut conn, &user.id).expect("query"));
    assert_eq!(
        count_rows(&mut conn, "audit_events WHERE action = 'two_step.disabled'"),
        1
    );

    let out = pagegrant(d, &["user", "reset-2fa", "ada@example.com"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));

    let out = pagegrant(d, &["user", "reset-2fa", "nobody@example.com"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));
}
