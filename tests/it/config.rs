//! Configuration through the real binary and the real server: environment
//! overrides, unknown keys, bad values, and `--config`.

use crate::kit::*;

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pagegrant"));
    cmd.args(args)
        .current_dir(dir)
        .env("PAGEGRANT_DATABASE__URL", dir.join("c.db"))
        .env("PAGEGRANT_SERVER__DATA_DIR", dir.join("data"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run")
}

#[test]
fn environment_overrides_reach_the_server() {
    // A one-second session lifetime from the environment-style override path.
    let cfg = pagegrant::config::Config::load_from(
        None,
        &[(
            "PAGEGRANT_SECURITY__SESSION_TTL_S".to_string(),
            "1".to_string(),
        )],
    )
    .expect("config");
    assert_eq!(cfg.security.session_ttl_s, 1);
    let srv = TestServer::start_with(|c| c.security.session_ttl_s = cfg.security.session_ttl_s);
    let ada = srv.user("ada@example.com", "Ada");
    let w = srv.workspace("Acme", &ada, pagegrant::db::models::Plan::Free);
    let c = logged_in(&srv, "ada@example.com");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = c.get(srv.url(&format!("/w/{}", w.id))).send().expect("get");
    assert_eq!(
        r.status(),
        303,
        "the session expired after the configured second"
    );
}

#[test]
fn bad_keys_and_values_stop_startup_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (env, key) in [
        (("PAGEGRANT_SERVER__BINDD", "x"), "server.bindd"),
        (("PAGEGRANT_TOKENS__CODE_TTL_S", "ten"), "tokens.code_ttl_s"),
        (
            ("PAGEGRANT_TOKENS__ACCESS_TTL_S", "0"),
            "tokens.access_ttl_s",
        ),
        (("PAGEGRANT_SERVER__BIND", "nowhere"), "server.bind"),
        (("PAGEGRANT_DEMO__SEED", "maybe"), "demo.seed"),
        (("PAGEGRANT_NOPE__KEY", "1"), "nope.key"),
    ] {
        let out = run(d, &["serve"], &[env]);
        assert!(!out.status.success(), "{env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{env:?}: {err}");
    }
    // A file with an unknown key or a wrongly typed value.
    let file = d.join("custom.toml");
    std::fs::write(
        &file,
        "[server]\nbind = \"127.0.0.1:1\"\ncolour = \"blue\"\n",
    )
    .expect("write");
    let out = run(
        d,
        &["--config", file.to_str().expect("path"), "migrate"],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.colour"));
    std::fs::write(&file, "[database]\npool_size = \"eight\"\n").expect("write");
    let out = run(
        d,
        &["--config", file.to_str().expect("path"), "migrate"],
        &[],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("database.pool_size"));
    std::fs::write(&file, "[database]\nthreads = 999\n").expect("write");
    let out = run(
        d,
        &["--config", file.to_str().expect("path"), "migrate"],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("database.threads"));
    let out = run(d, &["--config", "/no/such/file.toml", "migrate"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.toml"));
    // A good file is used, and the environment wins over it.
    std::fs::write(
        &file,
        format!(
            "[database]\nurl = \"{}\"\n",
            d.join("from-file.db").display()
        ),
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pagegrant"))
        .args([
            "--config",
            file.to_str().expect("path"),
            "migrate",
            "--json",
        ])
        .current_dir(d)
        .env("PAGEGRANT_SERVER__DATA_DIR", d.join("data"))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.join("from-file.db").exists());
    let out = run(
        d,
        &["--config", file.to_str().expect("path"), "migrate"],
        &[],
    );
    assert!(out.status.success());
    assert!(
        d.join("c.db").exists(),
        "the environment variable beat the file"
    );
}

#[test]
fn shipped_config_toml_matches_the_built_in_defaults() {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"))
        .expect("config.toml");
    assert_eq!(shipped, pagegrant::config::DEFAULTS);
    // Every key carries a one-line comment above it.
    let lines: Vec<&str> = shipped.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.contains(" = ") && !l.starts_with('#') {
            assert!(lines[i - 1].starts_with('#'), "key without a comment: {l}");
        }
    }
}

#[test]
fn demo_seed_happens_once_across_restarts() {
    let srv = TestServer::start_demo();
    let users = srv.count("users");
    let pages = srv.count("pages");
    assert_eq!(users, 2);
    assert!(pages >= 15);
    let dir = srv.stop();
    let srv = TestServer::start_in(dir, |c| c.demo.seed = true);
    assert_eq!(srv.count("users"), users);
    assert_eq!(srv.count("pages"), pages);
    assert_eq!(srv.count("integrations"), 8);
}
