//! Issue 25's findings on metrics, internal tokens, exports, sessions,
//! owners' views, `max_age`, one-time notes and reconnects: each test fails
//! on the code before the fix and names its check (S69–S81, docs/security.md).

use crate::kit::*;
use pagegrant::db::models::Page;
use pagegrant::domain::integrations::Created;
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn connect_as(fx: &Fx, client: &Created, email: &str, pages: &[&Page]) -> Value {
    crate::kit::connect_with(fx, client, email, fx.acme.id.as_str(), pages)
}

/// Grace's connection to the partner app in Acme.
fn graces_connection(fx: &Fx) -> pagegrant::db::models::Connection {
    pagegrant::db::queries::connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("conn")
}

fn status_of(fx: &Fx, token: &str, path: &str) -> u16 {
    bare_client()
        .get(fx.srv.url(path))
        .bearer_auth(token)
        .send()
        .expect("get")
        .status()
        .as_u16()
}

fn csrf_on(fx: &Fx, c: &Client) -> String {
    let (_, page) = get_html(c, &fx.srv.url(&format!("/w/{}", fx.acme.id)));
    input_value(&page, "csrf").expect("csrf")
}

fn actions(fx: &Fx) -> Vec<String> {
    use diesel::prelude::*;
    use pagegrant::db::schema::audit_events;
    audit_events::table
        .select(audit_events::action)
        .load(&mut fx.srv.conn())
        .expect("audit")
}

/// High 1: a made-up method name must not become a label kept forever.
#[test]
fn made_up_methods_and_paths_do_not_grow_metrics_s69() {
    let srv = TestServer::start();
    let c = bare_client();
    let scrape = || {
        c.get(srv.url("/metrics"))
            .send()
            .expect("metrics")
            .text()
            .expect("body")
    };
    let before = scrape();
    for i in 0..200 {
        let method = format!("X{i}{}", "A".repeat(2000));
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        // Some answer or a closed connection: either way nothing is kept.
        let _ = c.request(m, srv.url(&format!("/healthz/{i}/nope"))).send();
    }
    let after = scrape();
    assert!(!after.contains("X0AAAA"), "the method became a label");
    assert!(
        after.contains(r#"method="other""#),
        "unknown methods are counted as other"
    );
    assert!(
        !after.contains("/healthz/1/nope"),
        "raw paths are not labels"
    );
    assert!(
        after.len() < before.len() + 4096,
        "metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

/// Medium 2: an owner's copy of a member's internal token must not read the
/// private page the member shares afterwards.
#[test]
fn a_copied_internal_token_never_reads_private_pages_shared_later_s70() {
    let fx = fixture();
    let created = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Grace Bot".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            created_by: Some(fx.grace.clone()),
            ..Default::default()
        },
    )
    .expect("internal");
    let cid = created.connection_id.clone().expect("c").to_string();
    let first = created.internal_token.clone().expect("token");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let add = |c: &Client, page: &Page| {
        c.post(
            fx.srv
                .url(&format!("/w/{}/p/{}/connections/add", fx.acme.id, page.id)),
        )
        .form(&[("csrf", csrf_on(&fx, c).as_str()), ("connection_id", &cid)])
        .send()
        .expect("add")
    };
    // Olga's part: the owner copies the bot's token while it reaches only
    // a workspace page.
    assert_eq!(add(&grace, &fx.eng).status(), 303);
    let url = fx.srv.url(&format!(
        "/w/{}/settings/connections/{cid}/token",
        fx.acme.id
    ));
    let (_, page) = get_html(&ada, &url);
    let r = ada
        .post(&url)
        .form(&[("csrf", input_value(&page, "csrf").expect("csrf").as_str())])
        .send()
        .expect("copy");
    assert_eq!(r.status(), 200);
    let copied = field_by_id(&r.text().expect("body"), "token").expect("token shown");
    assert_eq!(copied, first);
    assert_eq!(
        status_of(&fx, &copied, &format!("/v1/pages/{}", fx.eng.id)),
        200
    );
    // Sharing another workspace page changes nothing for the copy.
    assert_eq!(add(&grace, &fx.roadmap).status(), 303);
    assert_eq!(status_of(&fx, &copied, "/v1/users/me"), 200);

    // Grace shares her private page: the copy must not read it.
    let r = add(&grace, &fx.grace_private);
    assert_eq!(r.status(), 303);
    let back = location(&r);
    assert!(!back.contains('?'), "a one-time note, no flag: {back}");
    let (_, shown) = get_html(&grace, &fx.srv.url(&back));
    assert!(shown.contains("has a new one"), "the installer is told");
    let private = format!("/v1/pages/{}", fx.grace_private.id);
    assert_eq!(status_of(&fx, &copied, &private), 401);
    assert_eq!(status_of(&fx, &copied, "/v1/users/me"), 401);
    assert_eq!(
        bare_client()
            .post(fx.srv.url("/v1/search"))
            .bearer_auth(&copied)
            .json(&json!({}))
            .send()
            .expect("search")
            .status(),
        401
    );
    // The installer copies the new token from My integrations; it reads the page.
    let (_, dev) = get_html(&grace, &fx.srv.url("/developers"));
    let integration = created.integration.id.to_string();
    let r = grace
        .post(fx.srv.url(&format!("/developers/{integration}/token")))
        .form(&[("csrf", input_value(&dev, "csrf").expect("csrf").as_str())])
        .send()
        .expect("copy");
    assert_eq!(r.status(), 200);
    let fresh = field_by_id(&r.text().expect("body"), "token").expect("token");
    assert_ne!(fresh, first);
    assert_eq!(status_of(&fx, &fresh, &private), 200);
    // The owner can no longer copy it (the page is Grace's).
    let (_, page) = get_html(&ada, &url);
    let r = ada
        .post(&url)
        .form(&[(
            "csrf",
            input_value(&page, "csrf").unwrap_or_default().as_str(),
        )])
        .send()
        .expect("copy");
    assert_eq!(r.status(), 403);
    assert!(!r.text().expect("body").contains(&fresh));
    assert_eq!(
        actions(&fx)
            .iter()
            .filter(|a| *a == "token.replaced")
            .count(),
        1
    );
    // A second private share replaces nothing: no one else has seen this one.
    let notes = fx.srv.page(&fx.acme, &fx.grace, "Grace Notes", None, true);
    let r = add(&grace, &notes);
    let (_, shown) = get_html(&grace, &fx.srv.url(&location(&r)));
    assert!(!shown.contains("has a new one"));
    assert_eq!(status_of(&fx, &fresh, "/v1/users/me"), 200);
}

/// Medium 4: cells a spreadsheet would run are neutralised, on the web and
/// at the command line.
#[test]
fn audit_csv_cells_never_start_a_formula_s72() {
    let fx = fixture();
    let names = [
        "=HYPERLINK(\"https://evil.example\",\"x\")",
        "+SUM(1)",
        "-2+3",
        "@cmd",
    ];
    for name in names {
        let evil = crate::kit::register(&fx.srv, name, &[CB], false, false);
        connect_as(&fx, &evil, "ada@example.com", &[&fx.eng]);
    }
    let ada = logged_in(&fx.srv, "ada@example.com");
    let r = ada
        .get(fx.srv.url(&format!("/w/{}/settings/audit.csv", fx.acme.id)))
        .send()
        .expect("csv");
    assert_eq!(r.status(), 200);
    let web = r.text().expect("body");
    let cli = pagegrant_on(
        &fx.srv,
        &["audit", "--workspace", fx.acme.id.as_str(), "--csv"],
        None,
    );
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli = String::from_utf8(cli.stdout).expect("utf8");
    for (what, text) in [("web", &web), ("cli", &cli)] {
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let mut seen = 0;
        for rec in rows.records() {
            let rec = rec.expect("record");
            for cell in rec.iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{what}: a live formula cell {cell:?}"
                );
                if cell.contains("HYPERLINK") {
                    seen += 1;
                }
            }
        }
        assert!(seen > 0, "{what}: the event is exported");
        assert!(
            text.contains("'=HYPERLINK"),
            "{what}: prefixed, not dropped"
        );
    }
}

/// Low 10: logins per person and pending consents per person are bounded.
#[test]
fn sessions_and_pending_consents_are_capped_per_person_s77() {
    let fx = fixture();
    let first = logged_in(&fx.srv, "grace@example.com");
    let home = fx.srv.url(&format!("/w/{}", fx.acme.id));
    assert_eq!(get_html(&first, &home).0, 200);
    let mut clients = Vec::new();
    for _ in 0..24 {
        clients.push(logged_in(&fx.srv, "grace@example.com"));
    }
    assert!(
        fx.srv.count("sessions") <= pagegrant::domain::accounts::SESSIONS_PER_USER,
        "{} sessions",
        fx.srv.count("sessions")
    );
    let r = first.get(&home).send().expect("get");
    assert_eq!(r.status(), 303, "the oldest session ended");
    let last = clients.last().expect("last");
    assert_eq!(get_html(last, &home).0, 200, "the newest works");
    // 3 sessions × 20 consent views: bounded per person, not per session.
    let url = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri={}",
        fx.srv.base,
        fx.conf.integration.client_id,
        pagegrant::http::errors::url_encode(CB)
    );
    for c in clients.iter().rev().take(3) {
        for _ in 0..20 {
            assert_eq!(get_html(c, &url).0, 200);
        }
    }
    let pending = fx.srv.count("authorization_requests");
    assert!(
        pending <= pagegrant::domain::consent::PENDING_PER_USER,
        "{pending} pending requests"
    );
    // The newest still answers.
    let (_, page) = get_html(last, &url);
    let r = last
        .post(fx.srv.url("/v1/oauth/authorize"))
        .form(&[
            ("request_id", input_value(&page, "request_id").expect("id")),
            ("csrf", input_value(&page, "csrf").expect("csrf")),
            ("decision", "deny".into()),
        ])
        .send()
        .expect("deny");
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("error=access_denied"));
}

/// Low 11: owners manage connections, not members' private pages: the
/// titles are counted, not shown, in View users with access and the log.
#[test]
fn owners_do_not_read_members_private_titles_s78() {
    let fx = fixture();
    connect_as(
        &fx,
        &fx.conf,
        "grace@example.com",
        &[&fx.grace_private, &fx.eng],
    );
    let conn = graces_connection(&fx);
    let grace = logged_in(&fx.srv, "grace@example.com");
    let notes = fx
        .srv
        .page(&fx.acme, &fx.grace, "Grace Diary Ocelot", None, true);
    let r = grace
        .post(
            fx.srv
                .url(&format!("/w/{}/p/{}/connections/add", fx.acme.id, notes.id)),
        )
        .form(&[
            ("csrf", csrf_on(&fx, &grace).as_str()),
            ("connection_id", conn.id.as_str()),
        ])
        .send()
        .expect("add");
    assert_eq!(r.status(), 303);
    let users = fx.srv.url(&format!(
        "/w/{}/settings/connections/{}/users",
        fx.acme.id, conn.id
    ));
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (status, page) = get_html(&ada, &users);
    assert_eq!(status, 200);
    assert!(page.contains("Engineering"));
    assert!(!page.contains("Grace Scratch Quokka") && !page.contains("Grace Diary Ocelot"));
    assert!(page.contains("2 private pages"), "counted instead");
    let (_, own) = get_html(&grace, &users);
    assert!(own.contains("Grace Scratch Quokka"), "its creator reads it");
    let (status, log) = get_html(
        &ada,
        &fx.srv.url(&format!("/w/{}/settings/audit", fx.acme.id)),
    );
    assert_eq!(status, 200);
    assert!(!log.contains("Grace Diary Ocelot"), "not in the log either");
    assert!(log.contains("a private page"));
}

/// Low 12: `max_age` is honoured, not accepted and ignored.
#[test]
fn max_age_sends_an_older_session_to_log_in_again_s79() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "grace@example.com");
    let url = |extra: &str| {
        format!(
            "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&state=s{extra}",
            fx.srv.base,
            fx.conf.integration.client_id,
            pagegrant::http::errors::url_encode(CB)
        )
    };
    assert_eq!(get_html(&c, &url("&max_age=3600")).0, 200, "fresh enough");
    let r = c.get(url("&max_age=ten")).send().expect("get");
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("error=invalid_request"));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = c.get(url("&max_age=1")).send().expect("get");
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/account/reauth?next="), "{to}");
    // Confirming (issue 28: the password again on Confirm it's you) comes
    // back to the same request, which now shows.
    let next = url::Url::parse(&format!("{}{to}", fx.srv.base))
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .expect("next");
    let (status, form) = get_html(&c, &fx.srv.url(&to));
    assert_eq!(status, 200, "Confirm it's you shows to a logged-in person");
    let r = c
        .post(fx.srv.url("/account/reauth"))
        .form(&[
            ("csrf", input_value(&form, "csrf").expect("csrf")),
            ("password", PASSWORD.into()),
            ("next", next),
        ])
        .send()
        .expect("login");
    assert_eq!(r.status(), 303);
    let (status, page) = follow(&fx.srv, &c, r);
    assert_eq!(status, 200);
    assert!(page.contains("Allow access"));
}

/// Low 13: the sealed one-time cookie replayed in the same session shows
/// the secret no second time.
#[test]
fn a_shown_once_secret_is_not_shown_again_from_a_replayed_cookie_s80() {
    let fx = fixture();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    assert_eq!(
        login(&fx.srv, &c, "grace@example.com", PASSWORD, None).status(),
        303
    );
    let (_, dev) = get_html(&c, &fx.srv.url("/developers"));
    let r = c
        .post(fx.srv.url("/developers"))
        .form(&[
            ("csrf", input_value(&dev, "csrf").expect("csrf").as_str()),
            ("name", "Once Again"),
            ("kind", "public"),
            ("redirect_uris", "https://once.example/cb"),
            ("capability", "read_content"),
        ])
        .send()
        .expect("create");
    assert_eq!(r.status(), 303);
    let page_url = location(&r);
    let value = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("pg_once="))
        .and_then(|v| v.split(';').next())
        .expect("one-time cookie")
        .to_string();
    let (_, page) = get_html(&c, &fx.srv.url(&page_url));
    let secret = field_by_id(&page, "client-secret").expect("shown once");
    let base: reqwest::Url = fx.srv.url("/").parse().expect("url");
    jar.add_cookie_str(&format!("pg_once={value}; Path=/developers"), &base);
    let (status, again) = get_html(&c, &fx.srv.url(&page_url));
    assert_eq!(status, 200);
    assert!(
        !again.contains(&secret),
        "the replayed cookie showed it again"
    );
}

/// A revoked connection's pages are not pre-ticked: one press of Allow
/// access must not re-share what was cut off.
#[test]
fn a_revoked_connection_is_not_a_reconnect_s81() {
    let fx = fixture();
    let t = connect_as(&fx, &fx.conf, "grace@example.com", &[&fx.eng]);
    let consent = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri={}",
        fx.srv.base,
        fx.conf.integration.client_id,
        pagegrant::http::errors::url_encode(CB)
    );
    let c = logged_in(&fx.srv, "grace@example.com");
    let (_, live) = get_html(&c, &consent);
    assert!(
        checked(&live, "page", fx.eng.id.as_str()) == Some(true),
        "a live connection's pages are pre-ticked"
    );
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/revoke"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[("token", t["refresh_token"].as_str().expect("rt"))])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 200);
    let (_, page) = get_html(&c, &consent);
    assert!(page.contains("Allow access"));
    assert!(
        checked_values(&page).is_empty(),
        "a revoked grant's pages are pre-ticked"
    );
    assert!(
        !page.contains("shared with"),
        "it is not presented as a reconnect"
    );
    // And allowing with nothing ticked shares nothing.
    let r = c
        .post(fx.srv.url("/v1/oauth/authorize"))
        .form(&[
            ("request_id", input_value(&page, "request_id").expect("id")),
            ("csrf", input_value(&page, "csrf").expect("csrf")),
            ("decision", "allow".into()),
        ])
        .send()
        .expect("allow");
    assert_eq!(r.status(), 303);
    let conn = graces_connection(&fx);
    let pages =
        pagegrant::db::queries::connections::page_ids(&mut fx.srv.conn(), &conn.id).expect("pages");
    assert!(pages.is_empty(), "{pages:?}");
}
