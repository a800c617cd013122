//! Issue 28 items 4 and 5 over HTTP: re-authentication ("sudo mode") for
//! sensitive actions when the last proof is older than
//! `security.reauth_s`, the consent page's `prompt=login` through the same
//! page, My account → Sessions (ending one or all other sessions) and
//! Change password. Each S-numbered test names its check in docs/security.md.

use crate::kit::*;
use diesel::prelude::*;
use pagegrant::db::schema::{integrations, sessions};
use reqwest::blocking::{Client, Response};

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";

/// A browser-like client with its own `User-Agent`, logged in as `email`.
fn browser_as(srv: &TestServer, email: &str, ua: &str) -> Client {
    let c = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(ua)
        .build()
        .expect("client");
    let r = login(srv, &c, email, PASSWORD, None);
    assert_eq!(r.status(), 303, "login of {email}");
    c
}

/// Every session's last proof an hour ago: older than the default 600 s.
fn age_proofs(srv: &TestServer) {
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(sessions::proved_at - 3600))
        .execute(&mut srv.conn())
        .expect("age");
}

fn csrf_at(srv: &TestServer, c: &Client, path: &str) -> String {
    let (status, page) = get_html(c, &srv.url(path));
    assert_eq!(status, 200, "{path}: {page}");
    input_value(&page, "csrf").expect("csrf")
}

/// Whether the answer sends the person to **Confirm it's you** and back to
/// `back`.
fn asks_again(r: &Response, back: &str) -> bool {
    r.status() == 303
        && location(r)
            == format!(
                "/account/reauth?next={}",
                pagegrant::http::errors::url_encode(back)
            )
}

/// **Confirm it's you** with `password`, coming back to `next`.
fn confirm(srv: &TestServer, c: &Client, next: &str, password: &str) -> Response {
    let path = format!(
        "/account/reauth?next={}",
        pagegrant::http::errors::url_encode(next)
    );
    let (status, page) = get_html(c, &srv.url(&path));
    assert_eq!(status, 200);
    assert!(page.contains("Confirm it&#x27;s you") || page.contains("Confirm it's you"));
    assert_eq!(input_value(&page, "next").as_deref(), Some(next));
    c.post(srv.url("/account/reauth"))
        .form(&[
            ("csrf", input_value(&page, "csrf").expect("csrf")),
            ("password", password.to_string()),
            ("next", next.to_string()),
        ])
        .send()
        .expect("reauth")
}

/// A guarded POST: its path, its form's fields, where the person comes
/// back to.
type Action<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

/// Ada's internal integration in Acme (its id) and its connection there.
fn internal_of_ada(fx: &Fx, ada: &Client) -> (String, String) {
    let csrf = csrf_at(&fx.srv, ada, "/developers");
    let acme = fx.acme.id.to_string();
    let r = ada
        .post(fx.srv.url("/developers"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Sudo Bot"),
            ("kind", "internal"),
            ("workspace_id", acme.as_str()),
        ])
        .send()
        .expect("create");
    let (status, page) = follow(&fx.srv, ada, r);
    assert_eq!(status, 200, "{page}");
    let at = page.find("/developers/").expect("link") + 12;
    let id = page[at..at + 36].to_string();
    let (_, settings) = get_html(ada, &fx.srv.url(&format!("/w/{acme}/settings/connections")));
    let conn = settings
        .split("<tr")
        .find(|row| row.contains("Sudo Bot") && row.contains("/token"))
        .and_then(|row| {
            row.split("/settings/connections/")
                .filter_map(|s| s.split_once("/token").map(|(id, _)| id))
                .find(|id| id.len() == 36)
        })
        .expect("the connection's token link")
        .to_string();
    (id, conn)
}

/// Ada's public integration (its id), to rotate and delete.
fn public_of_ada(fx: &Fx, ada: &Client) -> String {
    let csrf = csrf_at(&fx.srv, ada, "/developers");
    let r = ada
        .post(fx.srv.url("/developers"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Sudo Public"),
            ("kind", "public"),
            ("redirect_uris", "https://sudo.example/cb"),
            ("website", "https://sudo.example"),
            ("support_email", "help@sudo.example"),
            ("capability", "read_content"),
        ])
        .send()
        .expect("create");
    let (status, page) = follow(&fx.srv, ada, r);
    assert_eq!(status, 200, "{page}");
    let at = page.find("/developers/").expect("link") + 12;
    page[at..at + 36].to_string()
}

/// S91: each listed action, on a session whose last proof is older than
/// `security.reauth_s`, sends the person to Confirm it's you (GETs back to
/// the same page, POSTs back to the page their form is on) and does
/// nothing; after confirming, each goes ahead.
#[test]
fn sensitive_actions_ask_for_the_password_again_after_reauth_s_s91() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = fx.acme.id.to_string();
    let (internal, conn) = internal_of_ada(&fx, &ada);
    let public = public_of_ada(&fx, &ada);
    // Partner registered itself and Grace connected it: a client to block.
    connect(&fx, "grace@example.com", &ws, &[&fx.eng]);
    diesel::update(integrations::table.find(fx.conf.integration.id.to_string()))
        .set(integrations::dynamic.eq(true))
        .execute(&mut fx.srv.conn())
        .expect("dynamic");
    let conf = fx.conf.integration.id.to_string();
    let grace = fx.grace.id.to_string();
    let csrf = csrf_at(&fx.srv, &ada, &format!("/w/{ws}"));
    age_proofs(&fx.srv);
    let audit_before = audit_actions(&fx).len();

    let token_page = format!("/w/{ws}/settings/connections/{conn}/token");
    let block = format!("/w/{ws}/settings/clients/{conf}/block");
    let remove = format!("/w/{ws}/settings/members/{grace}/remove");
    let rotate = format!("/developers/{public}/rotate");
    let delete = format!("/developers/{public}/delete");
    // The confirm pages themselves.
    for page in [&token_page, &block, &remove, &rotate, &delete] {
        let r = ada.get(fx.srv.url(page)).send().expect("get");
        assert!(
            asks_again(&r, page),
            "GET {page}: {} {}",
            r.status(),
            location(&r)
        );
    }
    // The actions: (path, form, where the person comes back to).
    let policy = format!("/w/{ws}/settings/enterprise");
    let settings = format!("/w/{ws}/settings/connections");
    let dev_token = format!("/developers/{internal}/token");
    let dev_page = format!("/developers/{internal}");
    let actions: Vec<Action> = vec![
        (&token_page, vec![], &token_page),
        (&dev_token, vec![], &dev_page),
        (&rotate, vec![], &rotate),
        (&delete, vec![], &delete),
        (&block, vec![], &block),
        (&remove, vec![], &remove),
        (
            &policy,
            vec![("action", "policy"), ("policy", "approved_only")],
            &settings,
        ),
    ];
    for (path, fields, back) in &actions {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        let r = ada.post(fx.srv.url(path)).form(&form).send().expect("post");
        assert!(
            asks_again(&r, back),
            "POST {path}: {} {}",
            r.status(),
            location(&r)
        );
    }
    // The copy button's script asks for JSON: a 401 naming the page.
    let r = ada
        .post(fx.srv.url(&token_page))
        .header("accept", "application/json")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 401);
    let j: serde_json::Value = r.json().expect("json");
    assert_eq!(j["error"], "reauth_required");
    assert!(j["reauth"]
        .as_str()
        .is_some_and(|u| u.starts_with("/account/reauth?next=")));
    assert_eq!(audit_actions(&fx).len(), audit_before, "nothing happened");
    assert_eq!(fx.srv.count("memberships"), 3, "Grace is still in Acme");

    // A wrong password changes nothing; the right one goes back.
    let r = confirm(&fx.srv, &ada, &remove, "not her password");
    assert_eq!(r.status(), 401);
    let r = ada.get(fx.srv.url(&remove)).send().expect("get");
    assert!(asks_again(&r, &remove));
    let r = confirm(&fx.srv, &ada, &remove, PASSWORD);
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), remove);

    // Now each page shows and each action goes ahead.
    for page in [&token_page, &block, &remove, &rotate, &delete] {
        assert_eq!(get_html(&ada, &fx.srv.url(page)).0, 200, "{page}");
    }
    for (path, fields, _) in &actions {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        let r = ada.post(fx.srv.url(path)).form(&form).send().expect("post");
        assert!(
            r.status() == 200 || r.status() == 303,
            "POST {path}: {}",
            r.status()
        );
        assert!(!location(&r).starts_with("/account/reauth"), "{path}");
    }
    let log = audit_actions(&fx);
    for a in [
        "token.retrieved",
        "secret.rotated",
        "integration.deleted",
        "client.blocked",
        "member.removed",
        "policy.changed",
    ] {
        assert!(log.iter().any(|x| x == a), "{a} in {log:?}");
    }
}

/// The consent page's `prompt=login` uses the same page for a signed-in
/// person, and the proof it records lets the request through.
#[test]
fn prompt_login_confirms_with_the_reauth_page_and_then_shows_consent() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let url = authorize_url(
        &fx.srv,
        &base(&fx.conf.integration.client_id, &[("prompt", "login")]),
    );
    let r = ada.get(&url).send().expect("get");
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/account/reauth?next="), "{to}");
    let next = params(&to)["next"].clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = confirm(&fx.srv, &ada, &next, PASSWORD);
    assert_eq!(location(&r), next);
    let (status, page) = get_html(&ada, &fx.srv.url(&next));
    assert_eq!(status, 200);
    assert!(page.contains("request_id"), "the consent page");
}

/// S92: wrong passwords on Confirm it's you count toward the login
/// throttle: past the account's limit even the right one is refused.
#[test]
fn wrong_passwords_on_confirm_count_toward_the_login_throttle_s92() {
    let fx = fixture_with(|c| c.security.login_max_failures_per_account = 3);
    let ada = logged_in(&fx.srv, "ada@example.com");
    for _ in 0..3 {
        let r = confirm(&fx.srv, &ada, "/account/sessions", "wrong password");
        assert_eq!(r.status(), 401);
        assert!(r.text().expect("body").contains("Incorrect password."));
    }
    let r = confirm(&fx.srv, &ada, "/account/sessions", PASSWORD);
    assert_eq!(r.status(), 429, "throttled, even with the right one");
    // The login page shares the counter.
    let other = client();
    let r = login(&fx.srv, &other, "ada@example.com", PASSWORD, None);
    assert_eq!(r.status(), 429);
    // And the form is CSRF-protected.
    let r = ada
        .post(fx.srv.url("/account/reauth"))
        .form(&[("password", PASSWORD), ("next", "/")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
}

/// S93: My account → Sessions lists the person's own sessions (browser and
/// system from the user agent, the address, this device marked); **End**
/// ends another one (its cookie stops working), **End all other sessions**
/// keeps this one; both need the CSRF token, and nobody ends a session
/// that is not theirs.
#[test]
fn sessions_list_and_ending_other_sessions_s93() {
    let fx = fixture();
    let here = browser_as(&fx.srv, "ada@example.com", CHROME_LINUX);
    let there = browser_as(&fx.srv, "ada@example.com", FIREFOX_WINDOWS);
    let third = browser_as(&fx.srv, "ada@example.com", FIREFOX_WINDOWS);
    let grace = browser_as(&fx.srv, "grace@example.com", CHROME_LINUX);
    for c in [&there, &third, &grace] {
        assert_eq!(get_html(c, &fx.srv.url("/account/sessions")).0, 200);
    }
    let r = here.get(fx.srv.url("/account")).send().expect("get");
    assert_eq!(location(&r), "/account/sessions");
    let (status, page) = get_html(&here, &fx.srv.url("/account/sessions"));
    assert_eq!(status, 200);
    assert!(page.contains("Chrome on Linux"), "{page}");
    assert!(page.contains("Firefox on Windows"));
    assert!(page.contains("127.0.0.1"));
    assert_eq!(page.matches("This device").count(), 1);
    let ends = attrs(&page, "form[action$='/end']", "action");
    assert_eq!(ends.len(), 2, "Grace's session is not Ada's to see");
    // My account from the user menu.
    let (_, home) = get_html(&here, &fx.srv.url(&format!("/w/{}", fx.acme.id)));
    assert!(home.contains("href=\"/account\""));

    // Without the CSRF token: refused, nothing ended.
    let r = here.post(fx.srv.url(&ends[0])).send().expect("post");
    assert_eq!(r.status(), 403);
    // Grace cannot end Ada's session.
    let g = input_value(
        &get_html(&grace, &fx.srv.url("/account/sessions")).1,
        "csrf",
    )
    .expect("csrf");
    let r = grace
        .post(fx.srv.url(&ends[0]))
        .form(&[("csrf", g.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 404);
    assert_eq!(fx.srv.count("sessions"), 4);

    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = here
        .post(fx.srv.url(&ends[0]))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, after) = get_html(&here, &fx.srv.url("/account/sessions"));
    assert!(
        after.contains("Ended the session of Firefox on Windows."),
        "{after}"
    );
    assert_eq!(fx.srv.count("sessions"), 3);
    let alive = |c: &Client| {
        c.get(fx.srv.url("/account/sessions"))
            .send()
            .expect("get")
            .status()
            == 200
    };
    assert_eq!(
        [alive(&there), alive(&third)]
            .iter()
            .filter(|a| **a)
            .count(),
        1,
        "one of the two Firefox sessions ended"
    );
    let r = there
        .get(fx.srv.url("/account/sessions"))
        .send()
        .expect("get");
    assert!(r.status() == 200 || location(&r).starts_with("/login"));

    let r = here
        .post(fx.srv.url("/account/sessions/end-others"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    assert!(!alive(&there) && !alive(&third));
    assert!(alive(&here), "this one stays");
    assert!(alive(&grace), "Grace's stays");
    let log = audit_actions(&fx);
    assert!(log.iter().any(|a| a == "session.ended"));
    assert!(log.iter().any(|a| a == "sessions.ended_others"));
}

/// Last seen is written at most once a minute, not on every request.
#[test]
fn last_seen_is_written_at_most_once_a_minute() {
    let fx = fixture();
    let ada = browser_as(&fx.srv, "ada@example.com", CHROME_LINUX);
    assert_eq!(get_html(&ada, &fx.srv.url("/account/sessions")).0, 200);
    let seen = |srv: &TestServer| -> i64 {
        sessions::table
            .select(sessions::last_seen_at)
            .first(&mut srv.conn())
            .expect("seen")
    };
    let set = |srv: &TestServer, v: i64| {
        diesel::update(sessions::table)
            .set(sessions::last_seen_at.eq(v))
            .execute(&mut srv.conn())
            .expect("set")
    };
    let now = pagegrant::db::models::now();
    set(&fx.srv, now - 30);
    assert_eq!(get_html(&ada, &fx.srv.url("/account/sessions")).0, 200);
    assert_eq!(seen(&fx.srv), now - 30, "within the minute: no write");
    set(&fx.srv, now - 120);
    assert_eq!(get_html(&ada, &fx.srv.url("/account/sessions")).0, 200);
    assert!(seen(&fx.srv) >= now, "a minute later: written");
}

/// S94: Change password needs the current password (a wrong one counts
/// toward the throttle and changes nothing), follows the password rules,
/// is CSRF-protected, ends the other sessions when ticked and keeps them
/// when not; audited as `password.changed`.
#[test]
fn change_password_checks_the_current_one_and_ends_others_when_ticked_s94() {
    let fx = fixture();
    let here = browser_as(&fx.srv, "ada@example.com", CHROME_LINUX);
    let there = browser_as(&fx.srv, "ada@example.com", FIREFOX_WINDOWS);
    let csrf = csrf_at(&fx.srv, &here, "/account/sessions");
    let (_, page) = get_html(&here, &fx.srv.url("/account/sessions"));
    assert_eq!(
        checked(&page, "end_others", "1"),
        Some(true),
        "ticked by default"
    );
    let post = |form: &[(&str, &str)]| {
        here.post(fx.srv.url("/account/password"))
            .form(form)
            .send()
            .expect("post")
    };
    let r = post(&[("current", PASSWORD), ("new", "a new long password")]);
    assert_eq!(r.status(), 403, "no CSRF token");
    let r = post(&[
        ("csrf", &csrf),
        ("current", "wrong one"),
        ("new", "a new long password"),
        ("end_others", "1"),
    ]);
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .expect("body")
        .contains("Your current password is not right."));
    let r = post(&[
        ("csrf", &csrf),
        ("current", PASSWORD),
        ("new", "short"),
        ("end_others", "1"),
    ]);
    assert_eq!(r.status(), 400);
    assert_eq!(fx.srv.count("sessions"), 2);
    // Not ticked: the other session stays.
    let r = post(&[
        ("csrf", &csrf),
        ("current", PASSWORD),
        ("new", "a new long password"),
    ]);
    assert_eq!(r.status(), 303);
    assert_eq!(get_html(&there, &fx.srv.url("/account/sessions")).0, 200);
    // Ticked: it ends; this one stays.
    let r = post(&[
        ("csrf", &csrf),
        ("current", "a new long password"),
        ("new", "another long password"),
        ("end_others", "1"),
    ]);
    assert_eq!(r.status(), 303);
    let r = there
        .get(fx.srv.url("/account/sessions"))
        .send()
        .expect("get");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
    let (status, page) = get_html(&here, &fx.srv.url("/account/sessions"));
    assert_eq!(status, 200);
    assert!(page.contains("Changed your password. Your other sessions have ended."));
    let r = login(
        &fx.srv,
        &client(),
        "ada@example.com",
        "another long password",
        None,
    );
    assert_eq!(r.status(), 303);
    assert!(
        audit_actions(&fx)
            .iter()
            .filter(|a| *a == "password.changed")
            .count()
            == 2
    );
}
