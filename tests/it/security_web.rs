//! Security round 2 (issue 15), web side: each test is named after its
//! finding and speaks HTTP to the real server (or runs the real CLI).

use crate::authorize::{answer, authorize_url, base, consent_page, fixture, params, Fx};
use crate::common::*;
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

