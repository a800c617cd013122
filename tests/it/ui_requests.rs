//! Page access requests end to end (issue 29 items 1 and 5): the official
//! Python MCP SDK, connected with one page through the real consent page,
//! calls `request_access`; Ada opens the URL it returns in Chromium, ticks
//! the page the agent asked for and presses **Share**; the agent's next
//! `search`, on the same session and token, finds it. Screenshots of
//! `/requests/{id}` and of Settings' **Requests for pages** at 1280 and
//! 390 px.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::kit::browser::*;
use crate::kit::*;

/// Ada, logged in over HTTP, answers the consent page at `url` for Acme,
/// ticking `pages`; the redirect back to the client.
fn consent_for(fx: &Fx, url: &str, pages: &[&str]) -> String {
    let ada = logged_in(&fx.srv, "ada@example.com");
    let url = format!("{url}&workspace_id={}", fx.acme.id);
    let (status, page) = get_html(&ada, &url);
    assert_eq!(status, 200, "consent page for {url}: {page}");
    let r = answer(fx, &ada, &page, "allow", pages);
    assert_eq!(r.status(), 303, "consent answer");
    location(&r)
}

/// Ada answers the request at `url` in the browser: the picker opens
/// filtered by the agent's search words; she ticks `wanted` and shares.
fn share_in_browser(fx: &Fx, d: &Driver, url: &str, wanted: &str) {
    // Settings lists the request too, with a link to it.
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections?tab=mine", fx.acme.id)),
    );
    d.find("//h2[normalize-space()='Requests for pages']");
    d.screenshot_both("access_requests_in_settings");
    d.click_label("Answer");
    wait_for(|| d.url() == url, "the request's page");
    d.find("//h1[contains(., 'asks for more pages')]");
    d.find("//figcaption[normalize-space()=\"In the agent's words:\"]");
    let reason = d.text("//blockquote[@class='agent-reason']");
    assert!(reason.contains(wanted), "{reason}");
    assert_eq!(d.value("//input[@aria-label='Search pages']"), wanted);
    d.screenshot_both("access_request");
    let row = format!("//li[@data-title={}]", xpath_literal(wanted));
    d.click(&format!("{row}//input[@type='checkbox']"));
    d.submit_label("Share");
    let said = d.text("//p[contains(@class, 'flash')]");
    assert!(
        said.contains("Shared 1 page with Python MCP agent"),
        "{said}"
    );
    d.find("//p[contains(., 'in answer to this request')]");
    d.screenshot_both("access_request_shared");
}

#[test]
fn python_mcp_sdk_asks_for_a_page_the_person_shares_in_chromium_and_its_next_search_finds_it() {
    let fx = fixture();
    let wanted = "Hiring plan";
    fx.srv.page(&fx.acme, &fx.ada, wanted, None, false);
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/sdk/python/mcp_request_access.py"
        ))
        .env("PG_MCP_URL", fx.srv.url("/mcp"))
        .env("PG_EXPECT_TITLES", "Engineering|Roadmap")
        .env("PG_WANTED", wanted)
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
            let back = consent_for(&fx, url, &[fx.eng.id.as_str()]);
            writeln!(stdin, "{back}").expect("write");
        } else if let Some(url) = line.strip_prefix("REQUEST ") {
            assert!(url.starts_with(&fx.srv.url("/requests/")), "{url}");
            share_in_browser(&fx, &d, url, wanted);
            writeln!(stdin, "go").expect("write");
        }
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && seen.contains("all passed"),
        "client failed:\n{seen}\n{stderr}"
    );
    let actions = audit_actions(&fx);
    assert!(
        actions.contains(&"access_request.shared".to_string()),
        "{actions:?}"
    );
}
