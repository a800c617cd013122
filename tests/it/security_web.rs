//! Security round 2 (issue 15), web side: each test is named after its
//! finding and speaks HTTP to the real server (or runs the real CLI).

use crate::kit::*;
use pagegrant::db::models::{IntegrationKind, Plan};
use pagegrant::domain::integrations::{self, NewIntegration};
use reqwest::blocking::Client;
use serde_json::Value;

fn metrics(srv: &TestServer, bearer: Option<&str>) -> (u16, String) {
    let mut r = bare_client().get(srv.url("/metrics"));
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    let r = r.send().expect("metrics");
    (r.status().as_u16(), r.text().expect("body"))
}

/// Issue 15 #2: a failed login for a known and an unknown email must move
/// `/metrics` alike, and `metrics.token` closes the endpoint.
#[test]
fn metrics_do_not_tell_whether_an_account_exists() {
    let srv = TestServer::start();
    srv.user("ada@example.com", "Ada");
    let c = client();
    let (_, text) = metrics(&srv, None);
    assert!(
        !text.contains("hash=\""),
        "no series by kind of hash: {}",
        text.lines()
            .filter(|l| l.contains("password_checks"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(text
        .lines()
        .any(|l| l.starts_with("pagegrant_password_checks_total ")));
    let r = login(&srv, &c, "ada@example.com", "wrong", None);
    assert_eq!(r.status(), 200);
    let r = login(&srv, &c, "nobody@example.com", "wrong", None);
    assert_eq!(r.status(), 200);
    let (_, after) = metrics(&srv, None);
    assert!(!after.contains("stored") && !after.contains("dummy"));
}

#[test]
fn metrics_token_requires_the_bearer() {
    let srv = TestServer::start_with(|c| c.metrics.token = "s3cret-scrape".into());
    assert_eq!(metrics(&srv, None).0, 401);
    assert_eq!(metrics(&srv, Some("wrong")).0, 401);
    assert_eq!(metrics(&srv, Some("s3cret-scrap")).0, 401);
    let (status, body) = metrics(&srv, Some("s3cret-scrape"));
    assert_eq!(status, 200);
    assert!(body.contains("pagegrant_http_requests_total"));
    // The environment sets it as any other key.
    let cfg = pagegrant::config::Config::load_from(
        None,
        &[("PAGEGRANT_METRICS__TOKEN".into(), "from-env".into())],
    )
    .expect("config");
    assert_eq!(cfg.metrics.token, "from-env");
}

// ---- shared helpers

fn exchange_status(fx: &Fx, code: &str) -> (u16, Value) {
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
        ])
        .send()
        .expect("token");
    (r.status().as_u16(), r.json().expect("json"))
}

fn code_for(fx: &Fx, c: &Client) -> String {
    let page = consent_page(fx, c, &base(&fx.conf.integration.client_id, &[]));
    let r = answer(fx, c, &page, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    code_of(&r)
}

fn ada_connection(fx: &Fx) -> String {
    pagegrant::db::queries::connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.ada.id,
    )
    .expect("q")
    .expect("connection")
    .id
    .to_string()
}

// ---- #3

/// Issue 15 #3: consent views cannot fill the disk.
#[test]
fn pending_consents_are_bounded_per_session_and_state_is_short() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = fx.conf.integration.client_id.clone();
    let first = consent_page(&fx, &ada, &base(&id, &[]));
    let mut last = String::new();
    for _ in 0..30 {
        last = consent_page(&fx, &ada, &base(&id, &[]));
    }
    let pending = fx.srv.count("authorization_requests");
    assert!(pending <= 20, "{pending} pending requests for one session");
    // The newest win: the oldest form is gone, the newest still answers.
    let r = answer(&fx, &ada, &first, "allow", &[fx.eng.id.as_str()]);
    assert_ne!(r.status(), 303, "the oldest pending request was dropped");
    let r = answer(&fx, &ada, &last, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    assert!(params(&location(&r)).contains_key("code"));

    // A state of a few KB is refused at the redirect URI, neither stored nor echoed.
    let before = fx.srv.count("authorization_requests");
    let long = "s".repeat(4096);
    let r = ada
        .get(authorize_url(
            &fx.srv,
            &base(&id, &[("state", long.as_str())]),
        ))
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    assert!(loc.starts_with(CB), "{loc}");
    let p = params(&loc);
    assert_eq!(p.get("error").map(String::as_str), Some("invalid_request"));
    assert!(!p.contains_key("state"), "an over-long state is not echoed");
    assert_eq!(fx.srv.count("authorization_requests"), before);
    // 2 KB is still fine.
    let ok = "s".repeat(2048);
    consent_page(&fx, &ada, &base(&id, &[("state", ok.as_str())]));
}

// ---- #6

/// Issue 15 #6: a code issued before Disconnect dies with the connection.
#[test]
fn disconnect_ends_outstanding_codes() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let old_code = code_for(&fx, &ada);
    // Disconnect in Settings.
    let url = fx.srv.url(&format!(
        "/w/{}/settings/connections/{}/disconnect",
        fx.acme.id,
        ada_connection(&fx)
    ));
    let (status, confirm) = get_html(&ada, &url);
    assert_eq!(status, 200);
    let csrf = input_value(&confirm, "csrf").expect("csrf");
    let r = ada
        .post(&url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    // A later consent re-activates the connection.
    let new_code = code_for(&fx, &ada);
    let (status, body) = exchange_status(&fx, &old_code);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let (status, body) = exchange_status(&fx, &new_code);
    assert_eq!(status, 200, "the new grant works: {body}");
}

/// Issue 15 #6: revocation by the client ends outstanding codes too.
#[test]
fn revoke_ends_outstanding_codes() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let first = code_for(&fx, &ada);
    let (status, tokens) = exchange_status(&fx, &first);
    assert_eq!(status, 200);
    let pending = code_for(&fx, &ada);
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/revoke"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[("token", tokens["access_token"].as_str().expect("at"))])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 200);
    let _again = code_for(&fx, &ada);
    let (status, body) = exchange_status(&fx, &pending);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}

// ---- #7

fn developers_create(fx: &Fx, c: &Client, fields: &[(&str, &str)]) -> (u16, String) {
    let (_, page) = get_html(c, &fx.srv.url("/developers"));
    let token = input_value(&page, "csrf").expect("csrf");
    let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
    form.extend_from_slice(fields);
    let r = c
        .post(fx.srv.url("/developers"))
        .form(&form)
        .send()
        .expect("post");
    // Create answers 303 to the integration's page (Post/Redirect/Get, issue 16).
    follow(&fx.srv, c, r)
}

const EVIL_CB: &str = "https://evil.example/landing";

/// Issue 15 #7 (RFC 9700 §4.11.2): a client anyone registered at
/// /developers cannot use authorize errors as an open redirect.
#[test]
fn self_registered_clients_get_no_automatic_error_redirect() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (status, page) = developers_create(
        &fx,
        &grace,
        &[
            ("name", "Landing"),
            ("kind", "public"),
            ("redirect_uris", EVIL_CB),
            ("capability", "read_content"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let client_id = pagegrant::db::queries::integrations::by_name(&mut fx.srv.conn(), "Landing")
        .expect("q")
        .pop()
        .expect("registered")
        .client_id;
    let anon = client();
    let r = anon
        .get(authorize_url(
            &fx.srv,
            &[
                ("client_id", client_id.as_str()),
                ("response_type", "x"),
                ("redirect_uri", EVIL_CB),
                ("state", "st"),
            ],
        ))
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 400, "an error page, not a redirect");
    assert!(r.headers().get("location").is_none());
    let body = r.text().expect("body");
    let href = format!("href=\"{EVIL_CB}?error=unsupported_response_type");
    assert!(
        html_unescape(&body).contains(&href),
        "a plain link back to the client: {body}"
    );
    // The operator's clients keep redirecting.
    let r = anon
        .get(authorize_url(
            &fx.srv,
            &base(&fx.conf.integration.client_id, &[("response_type", "x")]),
        ))
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with(CB));
}

// ---- #8

/// Issue 15 #8a: a private-use scheme reads as an app, whatever its "host".
#[test]
fn consent_shows_private_use_redirects_as_the_app_not_a_host() {
    let fx = fixture();
    let evil = integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        NewIntegration {
            name: "Evil".into(),
            kind: Some(IntegrationKind::Public),
            redirect_uris: vec!["com.evil.app://accounts.google.com/cb".into()],
            public_client: true,
            capabilities: vec!["read_content".into()],
            ..Default::default()
        },
    )
    .expect("register");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(
        &fx,
        &ada,
        &[
            ("client_id", evil.integration.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", "com.evil.app://accounts.google.com/cb"),
            ("code_challenge", crate::kit::CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    assert!(
        !page.contains("<strong>accounts.google.com"),
        "the host part of a private-use URI is not a destination"
    );
    assert!(page.contains("the app com.evil.app"), "{page}");
}

/// Issue 15 #8b: names cannot carry bidi or control characters, nor copy a
/// first-party integration's name.
#[test]
fn integration_names_refuse_bidi_controls_and_first_party_names() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let before = fx.srv.count("integrations");
    for name in [
        "Partner\u{202E}ppA",
        "\u{2066}GitHub\u{2069}",
        "Mail\u{200F}",
        "A\u{061C}B",
        "github",
        "  GitHub ",
    ] {
        let (status, page) = developers_create(
            &fx,
            &grace,
            &[
                ("name", name),
                ("kind", "public"),
                ("redirect_uris", "https://copy.example/cb"),
                ("capability", "read_content"),
            ],
        );
        assert_eq!(status, 400, "{name:?}: {page}");
    }
    assert_eq!(fx.srv.count("integrations"), before, "nothing registered");
    let (status, page) = developers_create(
        &fx,
        &grace,
        &[
            ("name", "GitHub Helper"),
            ("kind", "public"),
            ("redirect_uris", "https://copy.example/cb"),
            ("capability", "read_content"),
        ],
    );
    assert_eq!(status, 200, "{page}");
}

/// Issue 15 #8c: first-party integrations are marked where they are offered.
#[test]
fn first_party_integrations_are_marked_where_offered() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, settings) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    assert_eq!(
        settings.matches("Built by pagegrant").count(),
        1,
        "only GitHub is first-party"
    );
    let at = settings.find("Built by pagegrant").expect("mark");
    let github = settings[..at].rfind("GitHub").expect("next to GitHub");
    assert!(at - github < 200, "the mark belongs to GitHub");
    assert!(settings.contains("by GitHub Labs") && settings.contains("by Multi Labs"));
    let page = consent_page(
        &fx,
        &ada,
        &[
            ("client_id", fx.first.integration.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", "https://github.example/cb"),
        ],
    );
    assert!(page.contains("Built by pagegrant") && page.contains("GitHub Labs"));
    let page = consent_page(&fx, &ada, &base(&fx.conf.integration.client_id, &[]));
    assert!(!page.contains("Built by pagegrant"));
    assert!(page.contains("Labs"), "the developer is named");
}

// ---- #14

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Issue 15 #14: the database, its WAL and SHM, and backups are 0600.
#[cfg(unix)]
#[test]
fn database_files_and_backups_are_private() {
    if on_postgres() {
        return;
    }
    let srv = TestServer::start();
    srv.user("ada@example.com", "Ada");
    for f in ["pagegrant.db", "pagegrant.db-wal", "pagegrant.db-shm"] {
        assert_eq!(mode(&srv.path().join(f)), 0o600, "{f}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = pagegrant(
        d,
        &["user", "add", "--email", "b@example.com", "--name", "B"],
        None,
    );
    assert!(out.status.success());
    assert_eq!(mode(&d.join("cli.db")), 0o600, "the CLI's database");
    let target = d.join("copy.db");
    let out = pagegrant(d, &["backup", "--to", &target.to_string_lossy()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&target), 0o600, "the backup");
    let mut copy = pagegrant::db::connect(&target.to_string_lossy()).expect("open copy");
    assert_eq!(count_rows(&mut copy, "users"), 1);
}

// ---- #15

/// Issue 15 #15: the flash names only integrations of this workspace.
#[test]
fn settings_flash_names_only_this_workspaces_integrations() {
    let fx = fixture();
    let lab = fx.srv.workspace("Grace Lab", &fx.grace, Plan::Free);
    let secret = integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        NewIntegration {
            name: "Hidden Wombat Sync".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(lab),
            capabilities: vec!["read_content".into()],
            ..Default::default()
        },
    )
    .expect("internal");
    let ada = logged_in(&fx.srv, "ada@example.com");
    for done in ["approve", "unapprove", "disconnect_all"] {
        let (status, page) = get_html(
            &ada,
            &fx.srv.url(&format!(
                "/w/{}/settings/connections?done={done}&integration={}",
                fx.acme.id, secret.integration.id
            )),
        );
        assert_eq!(status, 200);
        assert!(
            !page.contains("Hidden Wombat"),
            "{done}: another workspace's integration named"
        );
    }
    // This workspace's own (one installed here) is still named, by the
    // one-time note the approval leaves (issue 27: no flags in the address
    // any more).
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let csrf = csrf_of(&fx, &ada);
    let multi = fx.conf.integration.id.to_string();
    let r = ada
        .post(
            fx.srv
                .url(&format!("/w/{}/settings/enterprise", fx.acme.id)),
        )
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "approve"),
            ("integration_id", multi.as_str()),
        ])
        .send()
        .expect("approve");
    assert_eq!(r.status(), 303);
    let (_, page) = get_html(&ada, &fx.srv.url(&location(&r)));
    assert!(html_unescape(&page).contains("Approved Partner <b>App</b>"));
}

// ---- #16

/// Issue 15 #16: the demo partner shows an error code only, never the
/// attacker-chosen description, on pagegrant's origin.
#[test]
fn demo_partner_shows_only_the_error_code() {
    let srv = TestServer::start_demo();
    let c = client();
    let url = srv.url(
        "/demo/partner/callback?error=access_denied&error_description=Your+account+is+locked.+Call+%2B1-555-0100",
    );
    let (status, page) = get_html(&c, &url);
    assert_eq!(status, 200);
    assert!(page.contains("access_denied"));
    assert!(!page.contains("locked") && !page.contains("555"), "{page}");
    let (_, page) = get_html(
        &c,
        &srv.url("/demo/partner/callback?error=Visit+evil.example+now"),
    );
    assert!(!page.contains("evil.example"), "{page}");
}

// ---- #19

/// Issue 15 #19: without --created-by, an internal integration is installed
/// by the workspace's creator, even when owners joined in the same second.
#[test]
fn cli_internal_integration_is_installed_by_the_workspace_creator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let run = |args: &[&str]| -> Value {
        let mut full = args.to_vec();
        full.push("--json");
        let out = pagegrant(d, &full, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let a = run(&["user", "add", "--email", "a@example.com", "--name", "A"]);
    let b = run(&["user", "add", "--email", "b@example.com", "--name", "B"]);
    let a = (a["id"].as_str().expect("id").to_string(), "a@example.com");
    let b = (b["id"].as_str().expect("id").to_string(), "b@example.com");
    // The creator is the one a tie on join time ordered by id would not pick.
    let (creator, other) = if a.0 > b.0 { (a, b) } else { (b, a) };
    let w = run(&["workspace", "add", "--name", "Tie", "--owner", creator.1]);
    let w = w["id"].as_str().expect("id").to_string();
    run(&[
        "workspace",
        "add-member",
        "--workspace",
        &w,
        "--email",
        other.1,
        "--role",
        "owner",
    ]);
    {
        use diesel::prelude::*;
        let mut conn = pagegrant::db::connect(&cli_db(d)).expect("open");
        diesel::sql_query(format!(
            "UPDATE memberships SET joined_at = 1000 WHERE workspace_id = '{w}'"
        ))
        .execute(&mut conn)
        .expect("same second");
    }
    let v = run(&[
        "integration",
        "add",
        "--internal",
        "--workspace",
        &w,
        "--name",
        "Bot",
    ]);
    let cid = v["connection_id"].as_str().expect("connection").to_string();
    let mut conn = pagegrant::db::connect(&cli_db(d)).expect("open");
    let c = pagegrant::db::queries::connections::by_id(
        &mut conn,
        &pagegrant::db::models::ConnectionId::parse(&cid).expect("id"),
    )
    .expect("q")
    .expect("connection");
    assert_eq!(
        c.installed_by.as_str(),
        creator.0,
        "the workspace's creator"
    );
    let help = pagegrant(d, &["integration", "add", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("workspace's creator"), "{help}");
}

// ---- #20

/// Issue 15 #20: the audit log is paged.
#[test]
fn audit_log_is_paginated() {
    let fx = fixture();
    {
        use pagegrant::domain::audit::{record, Actor, AuditAction};
        let mut conn = fx.srv.conn();
        for i in 0..120 {
            record(
                &mut conn,
                Some(&fx.acme.id),
                Actor::System,
                AuditAction::PolicyChanged,
                &"x",
                format!("event-{i:03}-mark"),
            )
            .expect("record");
        }
    }
    let ada = logged_in(&fx.srv, "ada@example.com");
    let mut url = fx.srv.url(&format!("/w/{}/settings/audit", fx.acme.id));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = get_html(&ada, &url);
        assert_eq!(status, 200);
        pages += 1;
        let rows: Vec<String> = page
            .match_indices("event-")
            .map(|(i, _)| page[i..i + 9].to_string())
            .collect();
        assert!(rows.len() <= 50, "{} rows on one page", rows.len());
        seen.extend(rows);
        let Some(next) = attr(&page, r#"[rel="next"][href]"#, "href") else {
            break;
        };
        url = fx.srv.url(&next);
        assert!(url.contains("before="), "{url}");
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..120).rev().map(|i| format!("event-{i:03}")).collect();
    assert_eq!(seen, expected, "every event once, newest first");
}

/// Issue 15 #20: one member cannot flood the audit log from the page menu.
#[test]
fn audit_writes_per_user_are_bounded() {
    let fx = fixture();
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn_id = pagegrant::db::queries::connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("c")
    .id
    .to_string();
    // A top-level workspace page of its own, outside what the consent shared.
    let spare = fx.srv.page(&fx.acme, &fx.ada, "Spare", None, false);
    let grace = logged_in(&fx.srv, "grace@example.com");
    let page_url = fx.srv.url(&format!("/w/{}/p/{}", fx.acme.id, spare.id));
    let (_, page) = get_html(&grace, &page_url);
    let csrf = input_value(&page, "csrf").expect("csrf");
    let mut ok = 0;
    let mut throttled = false;
    for i in 0..80 {
        let verb = if i % 2 == 0 { "add" } else { "remove" };
        let r = grace
            .post(fx.srv.url(&format!(
                "/w/{}/p/{}/connections/{verb}",
                fx.acme.id, spare.id
            )))
            .form(&[("csrf", csrf.as_str()), ("connection_id", conn_id.as_str())])
            .send()
            .expect("post");
        match r.status().as_u16() {
            303 => ok += 1,
            429 => {
                assert!(r.headers().get("retry-after").is_some());
                throttled = true;
                break;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(throttled, "{ok} changes in a row were never throttled");
    assert!((50..=60).contains(&ok), "{ok} changes before the limit");
    // Others are not affected.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &page_url);
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = ada
        .post(fx.srv.url(&format!(
            "/w/{}/p/{}/connections/remove",
            fx.acme.id, spare.id
        )))
        .form(&[("csrf", csrf.as_str()), ("connection_id", conn_id.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
}
