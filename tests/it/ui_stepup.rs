//! Step-up end to end with the official MCP SDKs (feature `e2e`; issue 29
//! item 2): a read-only agent (the 401 asks for reading first) calls
//! `create_page`, gets 403 `insufficient_scope`, its SDK sends the person
//! to the real consent page again, which shows only what is new with the
//! shared pages still ticked (this test answers it over HTTP, as
//! sdk_mcp.rs does), and the retried call succeeds. Python `mcp` 2.3.0
//! (registering itself) and TypeScript `@modelcontextprotocol/sdk` 1.32.2
//! (a Client ID Metadata Document on loopback), both pinned in tests/sdk.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::kit::docserver::{document, DocServer};
use crate::kit::*;

/// Whether the picker row of `id` on `page` is ticked.
fn ticked(page: &str, id: &str) -> bool {
    let needle = format!(r#"name="page" value="{id}""#);
    page.split(&needle)
        .nth(1)
        .is_some_and(|rest| rest.trim_start().starts_with("checked"))
}

/// Runs a client script, answering each AUTHORIZE line on the consent page
/// for Acme with Engineering ticked; the consent pages it saw and its
/// whole output.
fn drive(fx: &Fx, mut cmd: Command) -> (Vec<String>, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client (see .ci/run for its set-up)");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (mut pages, mut seen) = (Vec::new(), String::new());
    for line in stdout.lines() {
        let line = line.expect("line");
        seen.push_str(&line);
        seen.push('\n');
        if let Some(url) = line.strip_prefix("AUTHORIZE ") {
            let url = format!("{url}&workspace_id={}", fx.acme.id);
            let (status, page) = get_html(&ada, &url);
            assert_eq!(status, 200, "consent page for {url}: {page}");
            // What the person ticks: what the page shows ticked (the shared
            // pages on a step-up), else Engineering.
            let r = answer(fx, &ada, &page, "allow", &[fx.eng.id.as_str()]);
            assert_eq!(r.status(), 303, "consent answer");
            pages.push(page);
            writeln!(stdin, "{}", location(&r)).expect("write");
        }
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && seen.contains("all passed"),
        "client failed:\n{seen}\n{stderr}"
    );
    (pages, seen)
}

/// The consent pages of a step-up: the first a plain consent for reading,
/// each later one only what is new, Engineering still ticked.
fn assert_step_up_pages(fx: &Fx, pages: &[String], new: &[&str]) {
    assert_eq!(pages.len(), 1 + new.len(), "one consent per step");
    assert!(!pages[0].contains("also wants to"));
    assert!(pages[0].contains("<li>Read content</li>"));
    for (page, what) in pages[1..].iter().zip(new) {
        assert!(page.contains("also wants to"), "{page}");
        assert!(page.contains(&format!("<li>{what}</li>")), "{what}: {page}");
        assert!(
            !page.contains("<li>Read content</li>"),
            "only what is new: {page}"
        );
        assert!(page.contains("Already allowed: read content"), "{page}");
        assert!(ticked(page, fx.eng.id.as_str()), "the shared page is kept");
        assert!(page.contains("AI agent (MCP)"));
    }
}

#[test]
fn python_mcp_sdk_steps_up_through_the_consent_page_and_the_retry_succeeds() {
    let fx = fixture();
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/python/mcp_stepup.py"
    ))
    .env("PG_MCP_URL", fx.srv.url("/mcp"))
    .env("PG_PARENT_ID", fx.eng.id.to_string());
    let (pages, out) = drive(&fx, cmd);
    assert_step_up_pages(&fx, &pages, &["Insert content", "Update content"]);
    let scopes: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("SCOPE "))
        .collect();
    assert_eq!(scopes.len(), 3, "{out}");
    assert!(
        scopes[2].contains("update_content") && scopes[2].contains("insert_content"),
        "{out}"
    );
}

#[test]
fn typescript_mcp_sdk_steps_up_through_the_consent_page_and_the_retry_succeeds() {
    const REDIRECT: &str = "http://127.0.0.1:33416/callback";
    let docs = DocServer::start();
    let fx = fixture_with(|c| c.registration.cimd_dev_loopback = true);
    let id = docs.url("/oauth/stepup.json");
    docs.document(
        "/oauth/stepup.json",
        document(&id, "TypeScript step-up agent", &[REDIRECT]),
    );
    let mut cmd = Command::new("node");
    cmd.arg("mcp_stepup.mjs")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/js"))
        .env("PG_MCP_URL", fx.srv.url("/mcp"))
        .env("PG_ISSUER", &fx.srv.config.server.issuer)
        .env("PG_CLIENT_METADATA_URL", &id)
        .env("PG_REDIRECT_URI", REDIRECT)
        .env("PG_PARENT_ID", fx.eng.id.to_string());
    let (pages, _) = drive(&fx, cmd);
    assert_step_up_pages(&fx, &pages, &["Insert content"]);
}

/// The step-up consent page in Chromium, at 1280 and 390 px: only what is
/// new under "also wants to", what it already has in a line, the shared
/// page still ticked (S103).
#[test]
fn browser_step_up_consent_shows_what_is_new_and_keeps_the_pages() {
    use crate::kit::browser::*;
    let fx = fixture();
    let mcp = fx.srv.url("/mcp");
    let (_, client) =
        crate::kit::mcp::connect_for(&fx, "read_content", &[fx.eng.id.as_str()], &mcp);
    let ws = fx.acme.id.to_string();
    let url = authorize_url(
        &fx.srv,
        &base(
            &client,
            &[
                ("workspace_id", ws.as_str()),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("resource", mcp.as_str()),
                ("scope", "read_content insert_content update_content"),
            ],
        ),
    );
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&url);
    assert_eq!(
        d.text("//h2[contains(., 'also wants to')]"),
        "Agent also wants to"
    );
    let new: Vec<String> = d
        .find_all("//ul[contains(@class,'capabilities-new')]/li")
        .into_iter()
        .map(|e| d.rt.block_on(e.text()).unwrap_or_default())
        .collect();
    assert_eq!(new, ["Update content", "Insert content"]);
    assert!(d
        .text("//p[contains(@class,'already-allowed')]")
        .starts_with("Already allowed: read content."));
    let eng = format!("//input[@name='page' and @value='{}']", fx.eng.id);
    assert_eq!(
        d.value(&format!("{eng}/self::*[@checked]")),
        fx.eng.id.to_string(),
        "Engineering stays ticked"
    );
    d.screenshot_both("stepup-consent");
}
