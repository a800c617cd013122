//! Every CLI verb through the real binary: success output (one JSON object
//! with --json) and bad input (message on stderr, non-zero exit, nothing written).

use std::path::Path;

use crate::kit::*;
use pagegrant::db::models::PageId;
use serde_json::Value;

fn ok_json(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let mut full = args.to_vec();
    full.push("--json");
    let out = pagegrant(dir, &full, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    serde_json::from_str(stdout.trim()).expect("json")
}

/// Runs a verb that must fail, and returns its stderr.
fn fails(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = pagegrant(dir, args, stdin);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.trim().is_empty(), "{args:?} failed without a message");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    err
}

fn counts(dir: &Path) -> Vec<i64> {
    let mut conn = pagegrant::db::connect(&cli_db(dir)).expect("open");
    [
        "users",
        "workspaces",
        "memberships",
        "pages",
        "integrations",
        "integration_redirect_uris",
        "connections",
        "connection_pages",
        "internal_tokens",
        "audit_events",
        "blocks",
    ]
    .iter()
    .map(|t| count_rows(&mut conn, t))
    .collect()
}

/// A small world made through the CLI: two users, one workspace each.
struct World {
    dir: tempfile::TempDir,
    ada: String,
    acme: String,
    other_ws: String,
    root_page: String,
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ada = ok_json(
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
    ok_json(
        d,
        &[
            "user",
            "add",
            "--email",
            "grace@example.com",
            "--name",
            "Grace",
            "--password-stdin",
        ],
        Some("another password\n"),
    );
    let acme = ok_json(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "Acme",
            "--owner",
            "ada@example.com",
            "--plan",
            "enterprise",
        ],
        None,
    );
    let other = ok_json(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "Grace Place",
            "--owner",
            "grace@example.com",
        ],
        None,
    );
    let page = ok_json(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "Engineering",
        ],
        None,
    );
    World {
        ada: ada["id"].as_str().expect("id").to_string(),
        acme: acme["workspace_id"].as_str().expect("id").to_string(),
        other_ws: other["id"].as_str().expect("id").to_string(),
        root_page: page["page_id"].as_str().expect("id").to_string(),
        dir,
    }
}

#[test]
fn user_add_and_set_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = ok_json(
        d,
        &[
            "user",
            "add",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada Lovelace",
        ],
        None,
    );
    assert_eq!(v["email"], "ada@example.com");
    assert_eq!(v["id"], v["user_id"]);
    let generated = v["password"]
        .as_str()
        .expect("generated password")
        .to_string();
    assert!(generated.len() >= 16);
    let v = ok_json(
        d,
        &[
            "user",
            "add",
            "--email",
            "grace@example.com",
            "--name",
            "Grace",
            "--password-stdin",
        ],
        Some("hunter2hunter2\n"),
    );
    assert!(
        v.get("password").is_none(),
        "a password read from stdin is not echoed"
    );
    let before = counts(d);
    assert!(fails(
        d,
        &[
            "user",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Again"
        ],
        None
    )
    .contains("already exists"));
    assert!(fails(
        d,
        &["user", "add", "--email", "not-an-email", "--name", "X"],
        None
    )
    .contains("email"));
    assert!(fails(
        d,
        &[
            "user",
            "add",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--password-stdin"
        ],
        Some("short\n")
    )
    .contains("at least"));
    assert!(fails(
        d,
        &["user", "add", "--email", "y@example.com", "--name", "  "],
        None
    )
    .contains("name"));
    assert_eq!(counts(d), before, "failed verbs wrote nothing");

    let v = ok_json(
        d,
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        Some("a brand new password\n"),
    );
    assert_eq!(v["email"], "ada@example.com");
    let human = pagegrant(
        d,
        &["user", "set-password", "--email", "ada@example.com"],
        None,
    );
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains("Password: "));
    assert!(fails(
        d,
        &["user", "set-password", "--email", "nobody@example.com"],
        None
    )
    .contains("no user"));
    assert!(fails(
        d,
        &[
            "user",
            "set-password",
            "--email",
            "ada@example.com",
            "--password-stdin"
        ],
        Some("tiny\n")
    )
    .contains("at least"));
    assert_eq!(counts(d), before);
}

#[test]
fn workspace_add_and_add_member() {
    let w = world();
    let d = w.dir.path();
    let before = counts(d);
    let v = ok_json(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "Third",
            "--owner",
            &w.ada,
            "--plan",
            "plus",
        ],
        None,
    );
    assert_eq!(v["plan"], "plus");
    assert_eq!(v["id"], v["workspace_id"]);
    let v = ok_json(
        d,
        &[
            "workspace",
            "add-member",
            "--workspace",
            &w.acme,
            "--email",
            "grace@example.com",
            "--role",
            "member",
        ],
        None,
    );
    assert_eq!(v["role"], "member");
    let after = counts(d);
    assert_eq!(after[1], before[1] + 1);
    assert_eq!(after[2], before[2] + 2);
    assert!(fails(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "X",
            "--owner",
            "nobody@example.com"
        ],
        None
    )
    .contains("no user"));
    assert!(fails(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "X",
            "--owner",
            "ada@example.com",
            "--plan",
            "platinum"
        ],
        None
    )
    .contains("plan"));
    assert!(fails(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "",
            "--owner",
            "ada@example.com"
        ],
        None
    )
    .contains("name"));
    assert!(fails(
        d,
        &[
            "workspace",
            "add-member",
            "--workspace",
            "Acme",
            "--email",
            "grace@example.com",
            "--role",
            "admin"
        ],
        None
    )
    .contains("role"));
    assert!(fails(
        d,
        &[
            "workspace",
            "add-member",
            "--workspace",
            "Acme",
            "--email",
            "ghost@example.com",
            "--role",
            "member"
        ],
        None
    )
    .contains("no user"));
    assert!(fails(
        d,
        &[
            "workspace",
            "add-member",
            "--workspace",
            "Nowhere",
            "--email",
            "grace@example.com",
            "--role",
            "member"
        ],
        None
    )
    .contains("no workspace"));
    assert!(fails(
        d,
        &[
            "workspace",
            "add-member",
            "--workspace",
            "Acme",
            "--email",
            "grace@example.com",
            "--role",
            "owner"
        ],
        None
    )
    .contains("already"));
    assert_eq!(counts(d), after);
}

#[test]
fn page_add() {
    let w = world();
    let d = w.dir.path();
    let v = ok_json(
        d,
        &[
            "page",
            "add",
            "--workspace",
            &w.acme,
            "--title",
            "Roadmap",
            "--parent",
            &w.root_page,
        ],
        None,
    );
    assert_eq!(v["parent_id"], w.root_page.as_str());
    assert_eq!(v["id"], v["page_id"]);
    let v = ok_json(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "Diary",
            "--private",
            "--owner",
            "ada@example.com",
        ],
        None,
    );
    assert_eq!(v["visibility"], "private");
    let before = counts(d);
    assert!(fails(
        d,
        &[
            "page",
            "add",
            "--workspace",
            &w.other_ws,
            "--title",
            "X",
            "--parent",
            &w.root_page
        ],
        None
    )
    .contains("another workspace"));
    assert!(fails(
        d,
        &["page", "add", "--workspace", "Nowhere", "--title", "X"],
        None
    )
    .contains("no workspace"));
    assert!(fails(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "X",
            "--parent",
            "garbage"
        ],
        None
    )
    .contains("page id"));
    assert!(fails(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "X",
            "--private"
        ],
        None
    )
    .contains("--owner"));
    assert!(fails(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "X",
            "--owner",
            "grace@example.com"
        ],
        None
    )
    .contains("not a member"));
    assert_eq!(counts(d), before);
}

#[test]
fn page_add_with_markdown_content_then_show_it_as_markdown() {
    let w = world();
    let d = w.dir.path();
    let md = "Intro with **bold** and a [link](https://example.com).\n\n## Steps\n\n- [x] done\n- [ ] open\n\n```sh\nls -l\n```\n";
    std::fs::write(d.join("plan.md"), md).expect("write");
    let v = ok_json(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "Plan #1",
            "--content",
            "plan.md",
        ],
        None,
    );
    assert_eq!(v["blocks"], 5);
    let id = v["page_id"].as_str().expect("page id").to_owned();
    // Written by the creator: the workspace's first owner here.
    let mut conn = pagegrant::db::connect(&cli_db(d)).expect("open");
    let page = PageId::parse(&id).expect("id");
    let by = pagegrant::domain::blocks::content_of(&mut conn, &page).expect("content");
    assert_eq!(by.len(), 5);

    let out = pagegrant(d, &["page", "show", &id, "--markdown"], None);
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(shown, format!("# Plan #1\n\n{md}"));
    let v = ok_json(d, &["page", "show", &id], None);
    assert_eq!(v["title"], "Plan #1");
    assert_eq!(v["blocks"], 5);
    assert!(v["markdown"]
        .as_str()
        .expect("markdown")
        .contains("- [x] done"));
}

#[test]
fn page_add_content_errors_write_nothing() {
    let w = world();
    let d = w.dir.path();
    std::fs::write(d.join("latin1.md"), b"caf\xe9\n").expect("write");
    let before = counts(d);
    let add = |file: &str| {
        fails(
            d,
            &[
                "page",
                "add",
                "--workspace",
                "Acme",
                "--title",
                "X",
                "--content",
                file,
            ],
            None,
        )
    };
    assert!(add("missing.md").contains("cannot read missing.md"));
    assert!(add("latin1.md").contains("not UTF-8"));
    assert_eq!(counts(d), before);
    assert!(fails(d, &["page", "show", "garbage", "--markdown"], None).contains("page id"));
    assert!(fails(d, &["page", "show", &PageId::new().to_string()], None).contains("no page"));
}

#[test]
fn integration_add_public_internal_and_bad_input_s9() {
    let w = world();
    let d = w.dir.path();
    let v = ok_json(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Partner",
            "--redirect-uri",
            "https://partner.example/cb",
            "http://127.0.0.1/cb",
            "--website",
            "https://partner.example",
            "--support-email",
            "help@partner.example",
        ],
        None,
    );
    assert_eq!(v["id"], v["integration_id"]);
    let secret = v["client_secret"].as_str().expect("secret");
    assert_eq!(secret.len(), 43);
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(v["client_id"].is_string());
    assert_eq!(
        v["capabilities"],
        "read_content update_content insert_content read_user_with_email"
    );
    let v = ok_json(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Mobile",
            "--redirect-uri",
            "com.example.app:/cb",
            "--public-client",
            "--capabilities",
            "read_content",
        ],
        None,
    );
    assert!(v.get("client_secret").is_none());
    assert_eq!(v["client_type"], "public");
    let v = ok_json(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Reports",
            "--internal",
            "--workspace",
            "Acme",
        ],
        None,
    );
    let token = v["token"].as_str().expect("token");
    assert!(token.starts_with("ntn_"));
    assert!(v["connection_id"].is_string());

    // Secrets are stored hashed; the token's copy is encrypted.
    let text = database_text(&cli_db(d));
    assert!(
        text.contains(v["connection_id"].as_str().expect("id")),
        "the dump holds the rows"
    );
    let db = std::fs::read(cli_db(d)).unwrap_or_default();
    let wal = std::fs::read(d.join("cli.db-wal")).unwrap_or_default();
    for s in [secret, token] {
        assert!(!text.contains(s), "secret in plaintext (rows)");
        let needle = s.as_bytes();
        assert!(
            !db.windows(needle.len()).any(|w| w == needle),
            "secret in plaintext"
        );
        assert!(
            !wal.windows(needle.len()).any(|w| w == needle),
            "secret in plaintext (WAL)"
        );
    }

    let before = counts(d);
    for (args, why) in [
        (vec!["--redirect-uri", "javascript:alert(1)"], "scheme"),
        (
            vec!["--redirect-uri", "https://partner.example/cb#x"],
            "fragment",
        ),
        (
            vec!["--redirect-uri", "https://*.partner.example/cb"],
            "wildcard",
        ),
        (vec!["--redirect-uri", "http://partner.example/cb"], "https"),
        (vec!["--redirect-uri", "data:text/html,x"], "scheme"),
        (vec![], "at least one redirect URI"),
        (
            vec![
                "--redirect-uri",
                "https://p.example/cb",
                "--capabilities",
                "delete_everything",
            ],
            "capability",
        ),
        (
            vec![
                "--redirect-uri",
                "https://p.example/cb",
                "--website",
                "ftp://x",
            ],
            "website",
        ),
    ] {
        let mut full = vec!["integration", "add", "--name", "Bad"];
        full.extend(args.iter().copied());
        let err = fails(d, &full, None);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    assert!(fails(
        d,
        &["integration", "add", "--name", "Bad", "--internal"],
        None
    )
    .contains("--workspace"));
    assert!(fails(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Bad",
            "--internal",
            "--workspace",
            "Nowhere"
        ],
        None
    )
    .contains("no workspace"));
    assert_eq!(
        counts(d),
        before,
        "nothing written by refused registrations"
    );
}

#[test]
fn connection_add_page_and_audit_export() {
    let w = world();
    let d = w.dir.path();
    let v = ok_json(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Reports",
            "--internal",
            "--workspace",
            "Acme",
        ],
        None,
    );
    let conn = v["connection_id"].as_str().expect("conn").to_string();
    let v = ok_json(
        d,
        &[
            "connection",
            "add-page",
            "--connection",
            &conn,
            "--page",
            &w.root_page,
        ],
        None,
    );
    assert_eq!(v["added"], true);
    let v = ok_json(
        d,
        &[
            "connection",
            "add-page",
            "--connection",
            &conn,
            "--page",
            &w.root_page,
        ],
        None,
    );
    assert_eq!(v["added"], false);
    let grace_page = ok_json(
        d,
        &[
            "page",
            "add",
            "--workspace",
            &w.other_ws,
            "--title",
            "Elsewhere",
        ],
        None,
    );
    let private = ok_json(
        d,
        &[
            "workspace",
            "add-member",
            "--workspace",
            "Acme",
            "--email",
            "grace@example.com",
            "--role",
            "member",
        ],
        None,
    );
    assert_eq!(private["role"], "member");
    let graces_private = ok_json(
        d,
        &[
            "page",
            "add",
            "--workspace",
            "Acme",
            "--title",
            "Mine",
            "--private",
            "--owner",
            "grace@example.com",
        ],
        None,
    );
    let before = counts(d);
    assert!(fails(
        d,
        &[
            "connection",
            "add-page",
            "--connection",
            &conn,
            "--page",
            grace_page["id"].as_str().expect("id")
        ],
        None
    )
    .contains("not in the connection's workspace"));
    assert!(fails(
        d,
        &[
            "connection",
            "add-page",
            "--connection",
            &conn,
            "--page",
            graces_private["id"].as_str().expect("id")
        ],
        None
    )
    .contains("private"));
    assert!(fails(
        d,
        &[
            "connection",
            "add-page",
            "--connection",
            "00000000-0000-4000-8000-000000000000",
            "--page",
            &w.root_page
        ],
        None
    )
    .contains("no connection"));
    assert!(fails(
        d,
        &[
            "connection",
            "add-page",
            "--connection",
            "x",
            "--page",
            &w.root_page
        ],
        None
    )
    .contains("connection id"));
    assert_eq!(counts(d), before);

    let v = ok_json(d, &["audit", "--workspace", "Acme"], None);
    let events = v["events"].as_array().expect("events");
    assert_eq!(events[0]["action"], "connection.page_added", "newest first");
    assert!(events.iter().any(|e| e["action"] == "connection.created"));
    assert!(fails(d, &["audit", "--workspace", "Nowhere"], None).contains("no workspace"));
}

#[test]
fn migrate_on_empty_and_on_migrated_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = ok_json(d, &["migrate"], None);
    assert!(v["migrations_applied"].as_u64().expect("n") >= 1);
    let v = ok_json(d, &["migrate"], None);
    assert_eq!(v["migrations_applied"], 0);
    assert_eq!(counts(d).iter().sum::<i64>(), 0);
    // A bad configuration stops the verb and names the key.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pagegrant"))
        .arg("migrate")
        .current_dir(d)
        .env("PAGEGRANT_DATABASE__URL", cli_db(d))
        .env("PAGEGRANT_DATABASE__POOL_SIZ", "3")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("database.pool_siz"));
}

#[test]
fn demo_verb_seeds_once_and_refuses_other_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = ok_json(d, &["demo"], None);
    assert_eq!(v["seeded"], true);
    assert_eq!(v["logins"].as_array().expect("logins").len(), 2);
    let after = counts(d);
    let v = ok_json(d, &["demo"], None);
    assert_eq!(v["seeded"], false);
    assert_eq!(counts(d), after, "no second seeding");

    let other = tempfile::tempdir().expect("tempdir");
    ok_json(
        other.path(),
        &["user", "add", "--email", "x@example.com", "--name", "X"],
        None,
    );
    assert!(fails(other.path(), &["demo"], None).contains("empty database"));
}

#[test]
fn serve_prints_the_demo_logins_and_answers() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pagegrant"))
        .current_dir(dir.path())
        .env("PAGEGRANT_SERVER__BIND", "127.0.0.1:0")
        .env("PAGEGRANT_DATABASE__URL", dir.path().join("serve.db"))
        .env("PAGEGRANT_SERVER__DATA_DIR", dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            addr = Some(rest.trim_end_matches(')').to_string());
        }
        let done = line.contains("grace@example.com");
        seen.push(line);
        if done {
            break;
        }
    }
    let text = seen.join("\n");
    assert!(
        text.contains("ada@example.com") && text.contains("pagegrant-demo"),
        "{text}"
    );
    let addr = addr.expect("listening address");
    assert!(!addr.ends_with(":0"), "the real port is printed: {addr}");
    let r = bare_client()
        .get(format!("http://{addr}/healthz"))
        .send()
        .expect("healthz");
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn backup_copies_the_sqlite_database_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok_json(
        d,
        &["user", "add", "--email", "b@example.com", "--name", "B"],
        None,
    );
    let target = d.join("copy.db");
    let target_s = target.to_string_lossy().to_string();
    if on_postgres() {
        let err = fails(d, &["backup", "--to", &target_s], None);
        assert!(err.contains("pg_dump"), "{err}");
        return;
    }
    let v = ok_json(d, &["backup", "--to", &target_s], None);
    assert!(v["bytes"].as_u64().expect("bytes") > 0);
    // The copy is a working database with the same rows.
    let mut copy = pagegrant::db::connect(&target_s).expect("open copy");
    assert_eq!(count_rows(&mut copy, "users"), 1);
    // A second backup to the same file is refused, and the copy is untouched.
    let before = std::fs::read(&target).expect("copy");
    let err = fails(d, &["backup", "--to", &target_s], None);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read(&target).expect("copy"), before);
}

#[test]
fn keys_verbs_list_and_rotate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let first = ok_json(d, &["keys", "list"], None);
    let kid = first["kid"].as_str().expect("kid").to_string();
    assert_eq!(first["keys"].as_array().expect("keys").len(), 1);
    // The master key is a private file in the data directory; the database holds only sealed keys.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("data/master.key"))
            .expect("master key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let rotated = ok_json(d, &["keys", "rotate"], None);
    assert_ne!(rotated["kid"], kid.as_str());
    let after = ok_json(d, &["keys", "list"], None);
    assert_eq!(after["keys"].as_array().expect("keys").len(), 2);
    assert_eq!(after["kid"], rotated["kid"]);
    // Without the master key, the sealed keys cannot be opened: a clear refusal.
    std::fs::rename(d.join("data/master.key"), d.join("elsewhere.key")).expect("move");
    let err = fails(d, &["keys", "list"], None);
    assert!(err.contains("master key"), "{err}");
}

/// `pagegrant --help` describes every verb group, and logs written to a
/// file carry no ANSI colour codes (issue 16 item 11).
#[test]
fn help_describes_every_verb_group_and_piped_logs_have_no_colour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = pagegrant(dir.path(), &["--help"], None);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    for group in [
        "user",
        "workspace",
        "page",
        "integration",
        "connection",
        "keys",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{group} ")))
            .unwrap_or_else(|| panic!("{group} listed: {help}"));
        assert!(
            line.trim_start()[group.len()..].trim().len() > 10,
            "{group} has a description: {line:?}"
        );
    }
    let out = pagegrant(dir.path(), &["workspace", "--help"], None);
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(help.contains("remove-member") && help.contains("set-role"));

    // A served request's log lines, written to a file, are plain text.
    let p = crate::kit::process::Proc::serve(dir.path(), "serve.log", &[("RUST_LOG", "debug")]);
    let _ = bare_client().get(format!("{}/healthz", p.base)).send();
    drop(p);
    let logs = std::fs::read_to_string(dir.path().join("serve.log")).expect("log");
    assert!(
        logs.contains("INFO") || logs.contains("DEBUG"),
        "logged: {logs}"
    );
    assert!(!logs.contains('\u{1b}'), "no ANSI codes: {logs}");
}
