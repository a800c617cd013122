//! The real `pagegrant` binary as a separate process, for the checks that
//! need its log output or a `kill -9` (S56, S57). The binary is the release
//! build named by `PAGEGRANT_RELEASE_BIN` when set (`.ci/run` sets it), else
//! the one cargo built for this test run. Also the world those checks run
//! in, made with the CLI, and the HTTP steps they take against a process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;

use super::html::input_value;
use super::server::{bare_client, cli_db, client, location, pagegrant};
use super::CB;

pub fn binary() -> PathBuf {
    match std::env::var_os("PAGEGRANT_RELEASE_BIN") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
            }
        }
        _ => PathBuf::from(env!("CARGO_BIN_EXE_pagegrant")),
    }
}

/// One CLI verb against `dir`'s database, with `--json`; panics on failure.
pub fn cli(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let mut full = args.to_vec();
    full.push("--json");
    let out = pagegrant(dir, &full, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

pub struct Proc {
    child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Proc {
    /// `pagegrant serve` on `dir`'s database (the CLI helper's `cli.db`) on
    /// a free port, its stderr (the log) going to `log_name` in `dir`.
    pub fn serve(dir: &Path, log_name: &str, env: &[(&str, &str)]) -> Proc {
        let log = dir.join(log_name);
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .current_dir(dir)
            .env("PAGEGRANT_DATABASE__URL", cli_db(dir))
            .env("PAGEGRANT_SERVER__DATA_DIR", dir.join("data"))
            .env("PAGEGRANT_SERVER__BIND", "127.0.0.1:0")
            .env("PAGEGRANT_DEMO__SEED", "false")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn pagegrant serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.expect("line");
            if let Some(rest) = line.split("listening on ").nth(1) {
                addr = Some(rest.trim_end_matches(')').to_string());
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let base = format!("http://{}", addr.expect("the listening address"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while bare_client()
            .get(format!("{base}/healthz"))
            .send()
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "no /healthz from {base}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Proc { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: the server stops gracefully and runs its shutdown code;
    /// waits (at most 40 s) until the process has exited.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
    pub internal_token: String,
    pub page_id: String,
}

pub fn random() -> String {
    use base64::Engine;
    let mut b = [0u8; 18];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A workspace with `users` members (user0 owns it), a page, a confidential
/// partner and an internal integration, all made with the CLI.
pub fn world(users: usize) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let password = format!("pw-{}", random());
    for i in 0..users {
        let email = format!("user{i}@example.com");
        cli(
            d,
            &[
                "user",
                "add",
                "--email",
                &email,
                "--name",
                &format!("User {i}"),
                "--password-stdin",
            ],
            Some(&password),
        );
    }
    cli(
        d,
        &[
            "workspace",
            "add",
            "--name",
            "Acme",
            "--owner",
            "user0@example.com",
            "--plan",
            "enterprise",
        ],
        None,
    );
    for i in 1..users {
        cli(
            d,
            &[
                "workspace",
                "add-member",
                "--workspace",
                "Acme",
                "--email",
                &format!("user{i}@example.com"),
                "--role",
                "member",
            ],
            None,
        );
    }
    let page = cli(
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
    let partner = cli(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Partner",
            "--redirect-uri",
            CB,
        ],
        None,
    );
    let bot = cli(
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
    let s = |v: &Value, k: &str| v[k].as_str().expect(k).to_string();
    World {
        password,
        client_id: s(&partner, "client_id"),
        client_secret: s(&partner, "client_secret"),
        internal_token: s(&bot, "token"),
        page_id: s(&page, "page_id"),
        dir,
    }
}

/// Logs in; answers the client, the status, and the session cookie's value.
pub fn login(base: &str, email: &str, password: &str) -> (Client, u16, Option<String>) {
    let c = client();
    let page = c
        .get(format!("{base}/login"))
        .send()
        .expect("login page")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .expect("login");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pg_session="))
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim_start_matches("pg_session=").to_string());
    (c, r.status().as_u16(), session)
}

/// The code from one consent: authorize, tick the page, Allow access.
/// `None` when the server stops answering (the crash test kills it).
pub fn consent_code(base: &str, c: &Client, w: &World) -> Option<String> {
    let url = format!(
        "{base}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&state=s",
        w.client_id,
        url::form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
    );
    let page = c.get(url).send().ok()?.text().ok()?;
    let rid = input_value(&page, "request_id")?;
    let csrf = input_value(&page, "csrf")?;
    let r = c
        .post(format!("{base}/v1/oauth/authorize"))
        .form(&[
            ("request_id", rid.as_str()),
            ("csrf", csrf.as_str()),
            ("decision", "allow"),
            ("page", w.page_id.as_str()),
        ])
        .send()
        .ok()?;
    let loc = location(&r);
    let u = url::Url::parse(&loc).ok()?;
    let code = u.query_pairs().find(|(k, _)| k == "code")?.1.into_owned();
    Some(code)
}

pub fn token_call(base: &str, w: &World, form: &[(&str, &str)]) -> reqwest::Result<(u16, Value)> {
    let r = bare_client()
        .post(format!("{base}/v1/oauth/token"))
        .basic_auth(&w.client_id, Some(&w.client_secret))
        .form(form)
        .send()?;
    let status = r.status().as_u16();
    Ok((status, r.json().unwrap_or(Value::Null)))
}

pub fn introspect(p: &Proc, w: &World, token: &str) -> Value {
    bare_client()
        .post(p.url("/v1/oauth/introspect"))
        .basic_auth(&w.client_id, Some(&w.client_secret))
        .form(&[("token", token)])
        .send()
        .expect("introspect")
        .json()
        .expect("json")
}

pub fn me(p: &Proc, token: &str) -> u16 {
    bare_client()
        .get(p.url("/v1/users/me"))
        .bearer_auth(token)
        .send()
        .expect("me")
        .status()
        .as_u16()
}
