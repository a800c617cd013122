//! Interop with real clients that register themselves (feature `e2e`,
//! issue 17): the official MCP TypeScript SDK's OAuth client
//! (`@modelcontextprotocol/sdk`, tests/sdk/js/mcp_oauth.mjs) by dynamic
//! registration and by a Client ID Metadata Document, and Python's authlib
//! (tests/sdk/python/dcr_oauth.py) by dynamic registration. Each script runs
//! unchanged client code; it prints `AUTHORIZE <url>`, and this side logs in
//! as Ada on the real consent page, ticks Engineering, and writes the
//! redirect it got back on the script's stdin. The script then exchanges the
//! code with PKCE, refreshes, and checks that /v1/search finds exactly
//! Engineering and its sub-page.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::kit::docserver::{document, DocServer};
use crate::kit::*;

/// Nobody listens there: the redirect is read from the consent POST.
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

/// Runs an SDK script, answering each `AUTHORIZE <url>` it prints through
/// the consent page.
fn drive(fx: &Fx, mut cmd: Command) {
    let visible = [&fx.eng, &fx.roadmap].map(|p| p.id.to_string()).join(",");
    cmd.env("PG_BASE", &fx.srv.base)
        .env("PG_REDIRECT_URI", REDIRECT)
        .env("PG_VISIBLE_IDS", visible)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .expect("run the SDK script (see .ci/run for its set-up)");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let ada = logged_in(&fx.srv, "ada@example.com");
    let mut log = String::new();
    let mut consents = 0;
    for line in stdout.lines() {
        let line = line.expect("line");
        log.push_str(&line);
        log.push('\n');
        if let Some(url) = line.strip_prefix("AUTHORIZE ") {
            assert!(url.starts_with(&fx.srv.base), "{url}");
            let r = ada.get(url).send().expect("authorize");
            assert_eq!(r.status(), 200, "consent page for {url}\n{log}");
            let page = r.text().expect("body");
            let r = answer(fx, &ada, &page, "allow", &[fx.eng.id.as_str()]);
            assert_eq!(r.status(), 303, "{log}");
            let back = location(&r);
            assert!(back.starts_with(REDIRECT), "{back}");
            writeln!(stdin, "{back}").expect("write the redirect");
            consents += 1;
        }
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "SDK interop failed:\n{log}\n{stderr}");
    assert!(log.contains("all passed"), "{log}\n{stderr}");
    assert_eq!(consents, 1, "one trip through the consent page:\n{log}");
}

fn node(mode: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg("mcp_oauth.mjs")
        .env("PG_MODE", mode)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/js"));
    cmd
}

#[test]
fn mcp_sdk_registers_itself_and_connects_through_consent() {
    let fx = fixture_with(|_| {});
    drive(&fx, node("dcr"));
    // It registered itself: the consent page said so, Settings says so.
    assert_eq!(fx.srv.count("integrations WHERE dynamic"), 1);
}

#[test]
fn mcp_sdk_connects_with_a_client_id_metadata_document() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| c.registration.cimd_dev_loopback = true);
    let id = docs.url("/oauth/mcp-client.json");
    docs.document(
        "/oauth/mcp-client.json",
        document(&id, "MCP SDK interop", &[REDIRECT]),
    );
    let mut cmd = node("cimd");
    cmd.env("PG_CLIENT_METADATA_URL", &id);
    drive(&fx, cmd);
    assert_eq!(docs.hits(), vec!["/oauth/mcp-client.json"]);
    assert_eq!(
        fx.srv
            .count("integrations WHERE cimd_expires_at IS NOT NULL"),
        1
    );
}

#[test]
fn python_authlib_registers_itself_and_connects_through_consent() {
    let fx = fixture_with(|_| {});
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/python/dcr_oauth.py"
    ));
    drive(&fx, cmd);
}
