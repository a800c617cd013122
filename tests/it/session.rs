//! Login, logout, sessions and CSRF on the login form (S50, S51, S53) and the
//! security headers of the pages people see (S45, S46).

use crate::kit::*;
use pagegrant::db::models::Plan;

fn session_cookie(resp: &reqwest::blocking::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pg_session=") || v.starts_with("__Host-pg_session="))
        .map(|s| s.to_string())
}

#[test]
fn login_succeeds_and_lands_in_first_workspace_s50() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let w = srv.workspace("Acme", &ada, Plan::Free);
    let c = client();
    let r = login(&srv, &c, "Ada@Example.com", PASSWORD, None);
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");
    let r = c.get(srv.url("/")).send().expect("home");
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/w/{}", w.id));
    let (status, body) = get_html(&c, &srv.url(&location(&r)));
    assert_eq!(status, 200);
    assert!(body.contains("Acme"));
}

#[test]
fn wrong_password_and_unknown_user_read_the_same_s53() {
    let srv = TestServer::start();
    srv.user("ada@example.com", "Ada");
    let c = client();
    let wrong = login(&srv, &c, "ada@example.com", "not the password", None);
    let (s1, b1) = (wrong.status(), wrong.text().expect("body"));
    let unknown = login(&srv, &c, "nobody@example.com", "not the password", None);
    let (s2, b2) = (unknown.status(), unknown.text().expect("body"));
    assert_eq!(s1, 200);
    assert_eq!(s1, s2);
    assert!(b1.contains("Incorrect email or password."));
    // Only the echoed email differs.
    assert_eq!(
        b1.replace("ada@example.com", "X"),
        b2.replace("nobody@example.com", "X")
    );
    // Neither logged anyone in.
    assert_eq!(c.get(srv.url("/")).send().expect("home").status(), 303);
    assert_eq!(
        location(&c.get(srv.url("/")).send().expect("home")),
        "/login?next=%2F"
    );
    // The unknown user's attempt ran argon2 (on the dummy hash), counted in
    // /metrics; other tests in this process only ever add to it. The counter
    // has no label by kind of hash since issue 15 #2 (a label told scrapers
    // whether an account exists), so this reads the one series and checks it
    // moved for an unknown account.
    let dummy_checks = || -> u64 {
        let text = bare_client()
            .get(srv.url("/metrics"))
            .send()
            .expect("metrics")
            .text()
            .expect("body");
        text.lines()
            .find(|l| l.starts_with("pagegrant_password_checks_total "))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("the password-check counter")
    };
    let before = dummy_checks();
    let again = login(&srv, &c, "someone-else@example.com", "guess", None);
    assert_eq!(again.status(), 200);
    assert!(dummy_checks() > before, "argon2 ran on the dummy hash");
}

#[test]
fn login_without_or_with_wrong_csrf_is_403_s50() {
    let srv = TestServer::start();
    srv.user("ada@example.com", "Ada");
    let c = client();
    let _ = c.get(srv.url("/login")).send().expect("page");
    let form = [("email", "ada@example.com"), ("password", PASSWORD)];
    let r = c.post(srv.url("/login")).form(&form).send().expect("post");
    assert_eq!(r.status(), 403);
    let r = c
        .post(srv.url("/login"))
        .form(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    assert!(session_cookie(&r).is_none());
    // A token without its cookie (another browser) is refused too.
    let page = client()
        .get(srv.url("/login"))
        .send()
        .expect("page")
        .text()
        .expect("body");
    let foreign = input_value(&page, "csrf").expect("csrf");
    let r = bare_client()
        .post(srv.url("/login"))
        .form(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", foreign.as_str()),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    // A cross-site POST with the right token is refused.
    let page = c
        .get(srv.url("/login"))
        .send()
        .expect("page")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = c
        .post(srv.url("/login"))
        .header("Origin", "https://evil.example")
        .form(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    let r = c
        .post(srv.url("/login"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    // What Chromium sends from our no-referrer pages is accepted.
    let r = c
        .post(srv.url("/login"))
        .header("Origin", "null")
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    // And the honest form still works afterwards, in a fresh browser.
    assert_eq!(
        login(&srv, &client(), "ada@example.com", PASSWORD, None).status(),
        303
    );
}

#[test]
fn next_is_same_origin_only_s50() {
    let srv = TestServer::start();
    srv.user("ada@example.com", "Ada");
    for evil in [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil",
        " //evil.example",
    ] {
        let c = client();
        let r = login(&srv, &c, "ada@example.com", PASSWORD, Some(evil));
        assert_eq!(r.status(), 303, "{evil}");
        assert_eq!(location(&r), "/", "next {evil:?} must be ignored");
    }
    let c = client();
    let r = login(&srv, &c, "ada@example.com", PASSWORD, Some("/w/abc?x=1"));
    assert_eq!(location(&r), "/w/abc?x=1");
    // The login page carries `next` from the query into the form.
    let (_, page) = get_html(&client(), &srv.url("/login?next=%2Fw%2Fabc"));
    assert_eq!(input_value(&page, "next").as_deref(), Some("/w/abc"));
    let (_, page) = get_html(
        &client(),
        &srv.url("/login?next=https%3A%2F%2Fevil.example"),
    );
    assert_eq!(input_value(&page, "next").as_deref(), Some(""));
}

#[test]
fn protected_page_sends_to_login_and_back() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let w = srv.workspace("Acme", &ada, Plan::Free);
    let c = client();
    let r = c.get(srv.url(&format!("/w/{}", w.id))).send().expect("get");
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(to, format!("/login?next=%2Fw%2F{}", w.id));
    let (_, page) = get_html(&c, &srv.url(&to));
    let next = input_value(&page, "next").expect("next");
    let r = login(&srv, &c, "ada@example.com", PASSWORD, Some(&next));
    assert_eq!(location(&r), format!("/w/{}", w.id));
}

#[test]
fn session_cookie_attributes_s51() {
    let srv = TestServer::start();
    srv.user("ada@example.com", "Ada");
    let r = login(&srv, &client(), "ada@example.com", PASSWORD, None);
    let cookie = session_cookie(&r).expect("session cookie");
    assert!(cookie.starts_with("pg_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(
        !cookie.contains("Secure"),
        "http issuer: no Secure flag ({cookie})"
    );
    let value = cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_start_matches("pg_session=");
    assert!(value.len() >= 22, "session id of at least 128 bits");
}

#[test]
fn https_issuer_gets_host_prefixed_secure_cookie_s51() {
    let srv = TestServer::start_with(|c| c.server.issuer = "https://pagegrant.example".into());
    srv.user("ada@example.com", "Ada");
    let c = bare_client();
    let page = c.get(srv.url("/login")).send().expect("page");
    let login_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-pg_login_csrf="))
        .map(|s| s.to_string())
        .expect("login csrf cookie");
    let csrf_cookie = login_cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let body = page.text().expect("body");
    let csrf = input_value(&body, "csrf").expect("csrf");
    let r = c
        .post(srv.url("/login"))
        .header("Cookie", csrf_cookie)
        .form(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(&r).expect("cookie");
    assert!(cookie.starts_with("__Host-pg_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(
        !cookie.contains("Domain"),
        "__Host- cookies carry no Domain"
    );
}

#[test]
fn logout_ends_the_session_server_side_s51() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let w = srv.workspace("Acme", &ada, Plan::Free);
    let c = client();
    let r = login(&srv, &c, "ada@example.com", PASSWORD, None);
    let cookie = session_cookie(&r).expect("cookie");
    let pair = cookie.split(';').next().unwrap_or_default().to_string();
    let ws_url = srv.url(&format!("/w/{}", w.id));
    // The stolen cookie works before logout...
    let r = bare_client()
        .get(&ws_url)
        .header("Cookie", pair.clone())
        .send()
        .expect("get");
    assert_eq!(r.status(), 200);
    let body = r.text().expect("body");
    let csrf = input_value(&body, "csrf").expect("csrf in logout form");
    // Logout needs the CSRF token.
    let r = c.post(srv.url("/logout")).send().expect("logout");
    assert_eq!(r.status(), 403);
    let r = c
        .post(srv.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("logout");
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login");
    assert_eq!(srv.count("sessions"), 0);
    // ...and not after, even replayed by hand.
    let r = bare_client()
        .get(&ws_url)
        .header("Cookie", pair)
        .send()
        .expect("get");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
}

#[test]
fn login_issues_a_fresh_session_id_s51() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let w = srv.workspace("Acme", &ada, Plan::Free);
    let c = client();
    let page = c
        .get(srv.url("/login"))
        .send()
        .expect("page")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
    ];
    // The second POST carries the first session's cookie, like a planted id would.
    let first = session_cookie(&c.post(srv.url("/login")).form(&form).send().expect("first"))
        .expect("first");
    let second = session_cookie(
        &c.post(srv.url("/login"))
            .form(&form)
            .send()
            .expect("second"),
    )
    .expect("second");
    let (a, b) = (
        first.split(';').next().unwrap_or_default().to_string(),
        second.split(';').next().unwrap_or_default().to_string(),
    );
    assert_ne!(a, b);
    let ws_url = srv.url(&format!("/w/{}", w.id));
    assert_eq!(
        bare_client()
            .get(&ws_url)
            .header("Cookie", a)
            .send()
            .expect("get")
            .status(),
        303,
        "the old id is dead"
    );
    assert_eq!(
        bare_client()
            .get(&ws_url)
            .header("Cookie", b)
            .send()
            .expect("get")
            .status(),
        200
    );
    assert_eq!(srv.count("sessions"), 1);
}

#[test]
fn repeated_wrong_passwords_are_throttled_s53() {
    let srv = TestServer::start_with(|c| c.security.login_max_failures_per_account = 3);
    srv.user("ada@example.com", "Ada");
    let c = client();
    for _ in 0..3 {
        assert_eq!(
            login(&srv, &c, "ada@example.com", "wrong password", None).status(),
            200
        );
    }
    let r = login(&srv, &c, "ada@example.com", PASSWORD, None);
    assert_eq!(r.status(), 429);
    let retry: i64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 0);
    assert!(r.text().expect("body").contains("Too many attempts"));
    // Unknown accounts are throttled the same way.
    for _ in 0..3 {
        login(&srv, &c, "ghost@example.com", "wrong password", None);
    }
    assert_eq!(
        login(&srv, &c, "ghost@example.com", "x", None).status(),
        429
    );
}

#[test]
fn throttling_per_address_s53() {
    let srv = TestServer::start_with(|c| c.security.login_max_failures_per_ip = 4);
    srv.user("ada@example.com", "Ada");
    let c = client();
    for i in 0..4 {
        login(
            &srv,
            &c,
            &format!("user{i}@example.com"),
            "wrong password",
            None,
        );
    }
    assert_eq!(
        login(&srv, &c, "ada@example.com", PASSWORD, None).status(),
        429
    );
}

fn assert_security_headers(r: &reqwest::blocking::Response, what: &str) {
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert!(
        h("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}"
    );
    assert!(
        h("content-security-policy").contains("default-src 'self'"),
        "{what}"
    );
    assert_eq!(h("cache-control"), "no-store", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
}

#[test]
fn security_headers_on_login_and_error_pages_s45_s46() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    srv.workspace("Acme", &ada, Plan::Free);
    let c = client();
    let r = c.get(srv.url("/login")).send().expect("login");
    assert_security_headers(&r, "login page");
    let body = r.text().expect("body");
    // Nothing third-party: every src/href is same-origin.
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!body.contains(attr), "login page loads {attr}");
    }
    let r = c.get(srv.url("/no/such/page")).send().expect("404");
    assert_eq!(r.status(), 404);
    assert_security_headers(&r, "404 page");
    let r = c
        .post(srv.url("/login"))
        .form(&[("email", "x")])
        .send()
        .expect("403");
    assert_eq!(r.status(), 403);
    assert_security_headers(&r, "403 page");
    let body = r.text().expect("body");
    assert!(body.contains("<h1>Not allowed</h1>"));
    let c = logged_in(&srv, "ada@example.com");
    let r = c.get(srv.url("/")).send().expect("home");
    let r = c.get(srv.url(&location(&r))).send().expect("workspace");
    assert_security_headers(&r, "workspace page");
}

/// README: a throttled account is unlocked by waiting out
/// `security.login_window_s`, or at once by `pagegrant user set-password`,
/// which clears the account's counter (not the per-address one).
#[test]
fn set_password_unlocks_a_throttled_account() {
    let srv = TestServer::start_with(|c| c.security.login_max_failures_per_account = 3);
    srv.user("ada@example.com", "Ada");
    let c = client();
    for _ in 0..3 {
        login(&srv, &c, "ada@example.com", "wrong password", None);
    }
    assert_eq!(
        login(&srv, &c, "ada@example.com", PASSWORD, None).status(),
        429
    );
    let out = pagegrant_on(
        &srv,
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        Some("a brand new password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        login(&srv, &c, "ada@example.com", "a brand new password", None).status(),
        303
    );
}
