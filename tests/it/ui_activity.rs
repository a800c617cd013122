//! Issue 29 item 3 in the browser: the owner opens a connection's •••
//! → Activity and sees what the agent read and wrote, filters it; the
//! member who made a connection reaches it from My connections; at 1280
//! and 390 px.

use serde_json::json;

use crate::kit::browser::*;
use crate::kit::mcp::{self, call, WRITE};
use crate::kit::*;

fn activity_rows(fx: &Fx) -> i64 {
    fx.srv.count("connection_activity")
}

#[test]
fn browser_owner_opens_activity_from_the_connection_menu() {
    let fx = fixture_with(|c| c.agents.activity_flush_s = 1);
    let eng = fx.eng.id.to_string();
    let token = mcp::connect(&fx, WRITE, &[&eng]);
    for _ in 0..3 {
        call(&fx, &token, "fetch", json!({"id": eng}));
    }
    call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": eng, "title": "Agent notes", "content": "Hello"}),
    );
    // The write at once, the reads at the next flush.
    wait_for(|| activity_rows(&fx) >= 2, "the reads flushed");
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    d.click("//summary[@aria-label='Actions for Agent']");
    d.submit("//a[@role='menuitem'][normalize-space()='Activity']");
    d.find("//h1[normalize-space()='Activity of Agent']");
    d.find("//td[normalize-space()='Read 3 times in this hour']");
    d.find("//td[starts-with(normalize-space(), 'Created the page')]");
    d.find("//td/a[normalize-space()='Agent notes']");
    d.find("//td/code[normalize-space()='MCP fetch']");
    d.screenshot_both("activity-owner");
    // Show: Writes.
    d.click("//select[@id='activity-kind']/option[@value='write']");
    d.submit_label("Filter");
    d.find("//td[starts-with(normalize-space(), 'Created the page')]");
    assert!(
        d.find_all("//td[normalize-space()='Read 3 times in this hour']")
            .is_empty(),
        "reads are filtered out"
    );
    d.screenshot_both("activity-owner-writes");
}

#[test]
fn browser_member_reaches_their_connections_activity_from_my_connections_on_a_phone() {
    let fx = fixture_with(|c| c.agents.activity_flush_s = 1);
    let t = connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let token = t["access_token"].as_str().unwrap().to_string();
    let path = format!("/v1/pages/{}", fx.eng.id);
    assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 200);
    wait_for(|| activity_rows(&fx) >= 1, "the read flushed");
    let d = Driver::start_phone(390, 844, &[]);
    d.login_as(&fx.srv, "grace@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    d.find("//*[normalize-space()='My connections']");
    d.click("//summary[@aria-label='Actions for Partner <b>App</b>']");
    d.submit("//a[@role='menuitem'][normalize-space()='Activity']");
    d.find("//td[normalize-space()='Read once in this hour']");
    d.find("//td/code[normalize-space()='GET /v1/pages/{id}']");
    let width =
        d.rt.block_on(
            d.c()
                .execute("return document.documentElement.scrollWidth", vec![]),
        )
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(width <= 390.0, "the page is {width} px wide on a phone");
    d.screenshot("activity-member-phone");
}
