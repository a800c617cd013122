//! Unmodified MCP clients against `/mcp` (feature `e2e`; issue 19): the
//! official TypeScript SDK's client (`@modelcontextprotocol/sdk`, with a
//! Client ID Metadata Document served here on loopback), the Python SDK
//! (`mcp`, registering itself by RFC 7591) and the MCP Inspector's CLI, all
//! pinned in tests/sdk/*. Each SDK client starts with nothing but the URL,
//! gets 401, discovers, registers, and is sent through the real login +
//! consent page, which this test answers over HTTP (ticking two pages); then
//! an owner presses Disconnect and the next call fails.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::kit::docserver::{document, DocServer};
use crate::kit::*;

/// Nobody listens there: the redirect is read from the consent POST.
const REDIRECT: &str = "http://127.0.0.1:33419/callback";

/// Ada, logged in, answers the consent page at `url` for Acme, ticking
/// `pages`; the redirect back to the client.
pub fn consent_for(fx: &Fx, url: &str, pages: &[&str]) -> String {
    let ada = logged_in(&fx.srv, "ada@example.com");
    // The workspace switcher's link: the same request, for Acme.
    let url = format!("{url}&workspace_id={}", fx.acme.id);
    let (status, page) = get_html(&ada, &url);
    assert_eq!(status, 200, "consent page for {url}: {page}");
    assert!(page.contains("Allow access"), "{page}");
    let r = answer(fx, &ada, &page, "allow", pages);
    assert_eq!(r.status(), 303, "consent answer");
    location(&r)
}

/// Presses Disconnect in Settings on every connection of Acme.
pub fn disconnect_all(fx: &Fx) {
    let ada = logged_in(&fx.srv, "ada@example.com");
    let settings = format!("/w/{}/settings/connections", fx.acme.id);
    let (_, html) = get_html(&ada, &fx.srv.url(&settings));
    let prefix = format!("{settings}/");
    let mut done = 0;
    for piece in html.split("href=\"").skip(1) {
        let href = piece.split('"').next().unwrap_or_default();
        if href.starts_with(&prefix) && href.ends_with("/disconnect") {
            let (_, confirm) = get_html(&ada, &fx.srv.url(href));
            let r = ada
                .post(fx.srv.url(href))
                .form(&[("csrf", input_value(&confirm, "csrf").expect("csrf"))])
                .send()
                .expect("disconnect");
            assert_eq!(r.status(), 303);
            done += 1;
        }
    }
    assert!(done > 0, "a connection to disconnect: {html}");
}

/// Runs an interactive client script, answering its AUTHORIZE and
/// CONNECTED lines; its whole output.
pub fn drive(fx: &Fx, mut cmd: Command, pages: &[&str]) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client (see .ci/run for its set-up)");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    for line in stdout.lines() {
        let line = line.expect("line");
        seen.push_str(&line);
        seen.push('\n');
        if let Some(url) = line.strip_prefix("AUTHORIZE ") {
            let back = consent_for(fx, url, pages);
            writeln!(stdin, "{back}").expect("write");
        } else if line == "CONNECTED" {
            disconnect_all(fx);
            writeln!(stdin, "go").expect("write");
        }
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && seen.contains("all passed"),
        "client failed:\n{seen}\n{stderr}"
    );
    seen
}

#[test]
fn python_mcp_sdk_registers_consents_and_sees_exactly_the_ticked_pages() {
    let fx = fixture();
    let q1 = fx
        .srv
        .page(&fx.acme, &fx.ada, "Q1 Plan", Some(&fx.roadmap), false);
    let ops = fx.srv.page(&fx.acme, &fx.ada, "Operations", None, false);
    let _hidden = fx.srv.page(&fx.acme, &fx.ada, "Hiring", None, false);
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/python/mcp_client.py"
    ))
    .env("PG_MCP_URL", fx.srv.url("/mcp"))
    .env("PG_EXPECT_TITLES", "Engineering|Roadmap|Q1 Plan|Operations")
    .env("PG_FETCH_ID", q1.id.to_string())
    .env("PG_UNSHARED_ID", fx.ada_private.id.to_string())
    .env("PG_PARENT_ID", fx.eng.id.to_string());
    let out = drive(&fx, cmd, &[fx.eng.id.as_str(), ops.id.as_str()]);
    // The protocol version it negotiated, for the closing note.
    let version = out
        .lines()
        .find_map(|l| l.strip_prefix("VERSION "))
        .unwrap_or("");
    assert!(version >= "2025-06-18", "{out}");
    eprintln!("python mcp SDK negotiated {version}");
}

#[test]
fn typescript_mcp_sdk_with_a_metadata_document_sees_exactly_the_ticked_pages() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| c.registration.cimd_dev_loopback = true);
    let id = docs.url("/oauth/agent.json");
    docs.document(
        "/oauth/agent.json",
        document(&id, "TypeScript MCP agent", &[REDIRECT]),
    );
    let q1 = fx
        .srv
        .page(&fx.acme, &fx.ada, "Q1 Plan", Some(&fx.roadmap), false);
    let ops = fx.srv.page(&fx.acme, &fx.ada, "Operations", None, false);
    let _hidden = fx.srv.page(&fx.acme, &fx.ada, "Hiring", None, false);
    let mut cmd = Command::new("node");
    cmd.arg("mcp_client.mjs")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/js"))
        .env("PG_MCP_URL", fx.srv.url("/mcp"))
        .env("PG_ISSUER", &fx.srv.config.server.issuer)
        .env("PG_CLIENT_METADATA_URL", &id)
        .env("PG_REDIRECT_URI", REDIRECT)
        .env("PG_EXPECT_TITLES", "Engineering|Roadmap|Q1 Plan|Operations")
        .env("PG_FETCH_ID", q1.id.to_string())
        .env("PG_UNSHARED_ID", fx.ada_private.id.to_string());
    let out = drive(&fx, cmd, &[fx.eng.id.as_str(), ops.id.as_str()]);
    assert_eq!(
        docs.hits(),
        vec!["/oauth/agent.json"],
        "fetched once, then cached"
    );
    let version = out
        .lines()
        .find_map(|l| l.strip_prefix("VERSION "))
        .unwrap_or("");
    assert!(version >= "2025-06-18", "{out}");
    eprintln!("typescript mcp SDK negotiated {version}");
}

#[test]
fn mcp_inspector_cli_lists_the_tools_with_a_token_from_consent() {
    let fx = fixture();
    // A read-only agent, connected through registration and the consent page.
    let token = crate::kit::mcp::connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    let run = |args: &[&str]| {
        let out = Command::new("node")
            .arg("node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js")
            .arg("--cli")
            .arg(fx.srv.url("/mcp"))
            .args(["--transport", "http"])
            .args(args)
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/js"))
            .env("HOME", fx.srv.path())
            .output()
            .expect("run the MCP Inspector CLI (see .ci/run for its set-up)");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "inspector {args:?}:\n{stdout}\n{stderr}"
        );
        stdout
    };
    let listed: serde_json::Value =
        serde_json::from_str(&run(&["--method", "tools/list"])).expect("JSON");
    let mut names: Vec<&str> = listed["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort();
    // Issue 29 item 2: the tools it lacks are listed too, marked as
    // needing more access (a call answers the step-up challenge).
    assert_eq!(
        names,
        [
            "create_page",
            "fetch",
            "request_access",
            "search",
            "update_page"
        ],
        "{listed}"
    );
    for t in listed["tools"].as_array().expect("tools") {
        let marked = t["description"]
            .as_str()
            .is_some_and(|d| d.contains("Needs more access"));
        assert_eq!(
            marked,
            t["name"] == "create_page" || t["name"] == "update_page",
            "{t}"
        );
    }
    let found = run(&[
        "--method",
        "tools/call",
        "--tool-name",
        "search",
        "--tool-arg",
        "query=Road",
    ]);
    assert!(
        found.contains("Roadmap") && !found.contains("Zebra"),
        "{found}"
    );
}
