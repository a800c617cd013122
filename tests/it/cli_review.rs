//! `pagegrant integration review ID` through the real binary (issue 27
//! item 1): the operator vouches for a public integration, once and
//! audited; an unknown id or an internal integration is a clear error with
//! a non-zero exit that writes nothing.

use crate::kit::process::cli;
use crate::kit::*;

fn fails(dir: &std::path::Path, args: &[&str]) -> String {
    let out = pagegrant(dir, args, None);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn reviewed_events(dir: &std::path::Path) -> i64 {
    use diesel::prelude::*;
    use pagegrant::db::schema::audit_events as a;
    let mut c = pagegrant::db::connect(&cli_db(dir)).expect("open");
    a::table
        .filter(a::action.eq("integration.reviewed"))
        .count()
        .get_result(&mut c)
        .expect("count")
}

#[test]
fn integration_review_is_idempotent_audited_and_refuses_unknown_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    cli(
        d,
        &[
            "user",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        Some("a long password\n"),
    );
    cli(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "Acme",
            "--owner",
            "ada@example.com",
        ],
        None,
    );
    let made = cli(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Sync",
            "--redirect-uri",
            "https://sync.example/cb",
            "--created-by",
            "ada@example.com",
        ],
        None,
    );
    let id = made["integration_id"].as_str().expect("id").to_string();

    let v = cli(d, &["integration", "review", &id], None);
    assert_eq!(v["integration_id"], serde_json::json!(id));
    assert_eq!(v["reviewed"], serde_json::json!(true));
    assert_eq!(v["already_reviewed"], serde_json::json!(false));
    // Again: nothing changes, nothing more is recorded.
    let v = cli(d, &["integration", "review", &id], None);
    assert_eq!(v["already_reviewed"], serde_json::json!(true));
    assert_eq!(reviewed_events(d), 1);
    // By client id too.
    let client_id = made["client_id"].as_str().expect("client id");
    let out = pagegrant(d, &["integration", "review", client_id], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already reviewed"));

    let err = fails(
        d,
        &[
            "integration",
            "review",
            "0b8a3c1e-5a8f-4f0e-9d2a-2f7e3c9b1a00",
        ],
    );
    assert!(err.contains("no integration has the id"), "{err}");
    let err = fails(d, &["integration", "review", "not-an-id"]);
    assert!(err.contains("no integration has the id"), "{err}");
    let internal = cli(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Bot",
            "--internal",
            "--workspace",
            "Acme",
        ],
        None,
    );
    let err = fails(
        d,
        &[
            "integration",
            "review",
            internal["integration_id"].as_str().expect("id"),
        ],
    );
    assert!(err.contains("internal integration"), "{err}");
    assert_eq!(reviewed_events(d), 1);
}
