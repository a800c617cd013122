//! The real `pagegrant` binary as a separate process, for the checks that
//! need its log output or a `kill -9` (S56, S57). The binary is the release
//! build named by `PAGEGRANT_RELEASE_BIN` when set (`.ci/run` sets it), else
//! the one cargo built for this test run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

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

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}
