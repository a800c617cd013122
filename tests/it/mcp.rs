//! The MCP server at `/mcp` (DESIGN §7; SECURITY S63–S66), spoken to over
//! HTTP with tokens obtained through registration and the real consent page.

use serde_json::{json, Value};

use crate::kit::mcp::{call, connect, connect_for, post, rpc, WRITE};
use crate::kit::*;

fn is_error(result: &Value) -> bool {
    result["isError"].as_bool() == Some(true)
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn titles(result: &Value) -> Vec<String> {
    let mut v: Vec<String> = result["structuredContent"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn tool_names(fx: &Fx, token: &str) -> Vec<String> {
    let v = rpc(fx, token, "tools/list", json!({}));
    let mut names: Vec<String> = v["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn s64_mcp_without_a_token_is_401_naming_reachable_metadata_for_this_issuer() {
    let fx = fixture();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    .to_string();
    let r = post(&fx, None, &init);
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    let meta_url = fx.srv.url("/.well-known/oauth-protected-resource/mcp");
    // Issue 29 item 7: the challenge also names the scope to ask for first.
    assert_eq!(
        challenge,
        format!(r#"Bearer resource_metadata="{meta_url}", scope="read_content""#)
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // The metadata it names is reachable and lists this issuer.
    let m: Value = bare_client().get(&meta_url).send().unwrap().json().unwrap();
    assert_eq!(m["resource"], fx.srv.url("/mcp"));
    assert_eq!(
        m["authorization_servers"],
        json!([fx.srv.config.server.issuer])
    );
    // A garbage token: the same challenge with invalid_token.
    let r = post(&fx, Some("garbage"), &init);
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with(&format!(r#"Bearer resource_metadata="{meta_url}""#)));
    assert!(challenge.contains(r#"error="invalid_token""#));
}

#[test]
fn s63_mcp_refuses_tokens_for_v1_and_internal_tokens() {
    let fx = fixture();
    let (v1_token, _) = connect_for(
        &fx,
        "read_content",
        &[fx.eng.id.as_str()],
        &fx.srv.url("/v1"),
    );
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let r = post(&fx, Some(&v1_token), &list);
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    // The /v1 token still works where it belongs.
    let r = bare_client()
        .get(fx.srv.url("/v1/users/me"))
        .bearer_auth(&v1_token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // And the /mcp token works at /mcp but not at /v1.
    let mcp_token = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    assert_eq!(post(&fx, Some(&mcp_token), &list).status(), 200);
    let r = bare_client()
        .get(fx.srv.url("/v1/users/me"))
        .bearer_auth(&mcp_token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn initialize_names_pagegrant_negotiates_versions_and_get_is_405() {
    let fx = fixture();
    let token = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    for version in ["2025-06-18", "2025-11-25"] {
        let v = rpc(
            &fx,
            &token,
            "initialize",
            json!({"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}),
        );
        let result = &v["result"];
        assert_eq!(result["serverInfo"]["name"], "pagegrant", "{v}");
        assert_eq!(result["protocolVersion"], version, "{v}");
        assert!(result["capabilities"]["tools"].is_object(), "{v}");
        let instructions = result["instructions"].as_str().unwrap();
        assert!(instructions.contains("only the pages"), "{instructions}");
    }
    // An older version than the server supports: it offers its own.
    let v = rpc(
        &fx,
        &token,
        "initialize",
        json!({"protocolVersion": "2024-11-05", "capabilities": {},
               "clientInfo": {"name": "test", "version": "1"}}),
    );
    let offered = v["result"]["protocolVersion"].as_str().unwrap_or("");
    assert!(offered >= "2025-06-18", "{v}");
    // No server-initiated stream: GET is 405.
    let r = bare_client()
        .get(fx.srv.url("/mcp"))
        .header("accept", "text/event-stream")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[test]
fn s65_tools_see_only_the_grants_pages() {
    let fx = fixture();
    let q1 = fx
        .srv
        .page(&fx.acme, &fx.ada, "Q1 Plan", Some(&fx.roadmap), false);
    let hidden = fx.srv.page(&fx.acme, &fx.ada, "Hiring Zebra", None, false);
    let token = connect(&fx, WRITE, &[fx.eng.id.as_str()]);

    // search lists the shared page and its sub-pages, nothing else.
    let r = call(&fx, &token, "search", json!({"query": ""}));
    assert_eq!(titles(&r), ["Engineering", "Q1 Plan", "Roadmap"], "{r}");
    for q in ["Zebra", "Secret", "Quokka", "Recipes"] {
        let r = call(&fx, &token, "search", json!({"query": q}));
        assert_eq!(titles(&r), Vec::<String>::new(), "{q}: {r}");
    }
    // fetch of a shared sub-page: its path is what the grant reaches.
    let r = call(&fx, &token, "fetch", json!({"id": q1.id.to_string()}));
    assert!(!is_error(&r), "{r}");
    assert_eq!(r["structuredContent"]["title"], "Q1 Plan");
    assert_eq!(
        r["structuredContent"]["path"],
        json!(["Engineering", "Roadmap"])
    );
    // By URL, too.
    let url = r["structuredContent"]["url"].as_str().unwrap().to_string();
    let by_url = call(&fx, &token, "fetch", json!({ "id": url }));
    assert_eq!(by_url["structuredContent"]["id"], q1.id.to_string());
    // The sub-pages of Engineering are listed.
    let r = call(&fx, &token, "fetch", json!({"id": fx.eng.id.to_string()}));
    assert_eq!(r["structuredContent"]["sub_pages"][0]["title"], "Roadmap");

    // Unshared, another member's private page, another workspace, a page
    // that does not exist: the same answer, which says nothing of existence.
    let unknown = "00000000-0000-4000-8000-000000000000".to_string();
    let answers: Vec<String> = [
        hidden.id.to_string(),
        fx.grace_private.id.to_string(),
        fx.ada_private.id.to_string(),
        fx.notebook_page.id.to_string(),
        unknown.clone(),
        "not an id".to_string(),
    ]
    .iter()
    .map(|id| {
        let r = call(&fx, &token, "fetch", json!({ "id": id }));
        assert!(is_error(&r), "{id}: {r}");
        text(&r)
    })
    .collect();
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert!(!answers[0].contains("Zebra"));

    // create_page under an unshared parent is refused the same way.
    let r = call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": hidden.id.to_string(), "title": "Sneaky"}),
    );
    assert!(is_error(&r), "{r}");
    assert_eq!(text(&r), answers[0]);
    assert_eq!(
        fx.srv.count("pages"),
        7,
        "nothing was created under the unshared parent"
    );

    // A trashed page is gone for the tools: fetch of it, or of a page under
    // it, is the same tool error as for an unshared page (S65), appending
    // to it is refused the same way, and search omits it.
    fx.srv
        .page(&fx.acme, &fx.ada, "Q1 Detail", Some(&q1), false);
    let r = call(
        &fx,
        &token,
        "update_page",
        json!({"id": q1.id.to_string(), "append_content": "Q1 text."}),
    );
    assert!(!is_error(&r), "{r}");
    let r = call(
        &fx,
        &token,
        "update_page",
        json!({"id": fx.roadmap.id.to_string(), "in_trash": true}),
    );
    assert!(!is_error(&r), "{r}");
    assert_eq!(r["structuredContent"]["in_trash"], true);
    let unshared = call(&fx, &token, "fetch", json!({"id": hidden.id.to_string()}));
    for (id, what) in [
        (fx.roadmap.id.to_string(), "a trashed page"),
        (q1.id.to_string(), "a page under a trashed one"),
    ] {
        let r = call(&fx, &token, "fetch", json!({ "id": id }));
        assert!(is_error(&r), "{what}: {r}");
        assert_eq!(text(&r), answers[0], "{what}: {r}");
        assert_eq!(r, unshared, "{what}: the whole result, not only its text");
    }
    let r = call(
        &fx,
        &token,
        "update_page",
        json!({"id": q1.id.to_string(), "append_content": "More."}),
    );
    assert!(is_error(&r), "no appending under the trash: {r}");
    assert_eq!(text(&r), answers[0]);
    let r = call(&fx, &token, "search", json!({"query": ""}));
    assert_eq!(titles(&r), ["Engineering"], "{r}");
}

#[test]
fn s65_a_disconnected_grant_stops_the_next_call() {
    let fx = fixture();
    let (token, client_id) = connect_for(
        &fx,
        "read_content",
        &[fx.eng.id.as_str()],
        &fx.srv.url("/mcp"),
    );
    let r = call(&fx, &token, "search", json!({"query": ""}));
    assert!(!is_error(&r));
    // Ada disconnects it in Settings.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let settings = format!("/w/{}/settings/connections", fx.acme.id);
    let (status, html) = get_html(&ada, &fx.srv.url(&settings));
    assert_eq!(status, 200);
    assert!(html.contains("Agent"), "{html}");
    let connection: String = {
        use diesel::prelude::*;
        use pagegrant::db::schema::{connections, integrations};
        connections::table
            .inner_join(integrations::table)
            .filter(integrations::client_id.eq(&client_id))
            .select(connections::id)
            .first(&mut *fx.srv.conn())
            .unwrap()
    };
    let path = format!("{settings}/{connection}/disconnect");
    let (_, confirm) = get_html(&ada, &fx.srv.url(&path));
    let r = ada
        .post(fx.srv.url(&path))
        .form(&[("csrf", input_value(&confirm, "csrf").unwrap())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "search", "arguments": {}}})
    .to_string();
    let r = post(&fx, Some(&token), &list);
    assert_eq!(r.status(), 401);
}

/// Issue 29 item 2 changed how: tools the grant lacks are listed, marked
/// as needing more access, and a call is refused with the HTTP step-up
/// challenge naming the capability (S102), before it runs.
#[test]
fn s66_tools_the_capabilities_do_not_allow_are_marked_and_refused() {
    let fx = fixture();
    let read_only = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    assert_eq!(
        tool_names(&fx, &read_only),
        [
            "create_page",
            "fetch",
            "request_access",
            "search",
            "update_page"
        ]
    );
    let refused = |tool: &str, args: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": {"name": tool, "arguments": args}});
        let r = post(&fx, Some(&read_only), &body.to_string());
        assert_eq!(r.status(), 403, "{tool}");
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string()
    };
    let c = refused(
        "create_page",
        json!({"parent_id": fx.eng.id.to_string(), "title": "New"}),
    );
    assert!(c.contains("insert_content"), "{c}");
    // Arguments cannot widen the grant.
    let c = refused(
        "update_page",
        json!({"id": fx.eng.id.to_string(), "title": "Renamed",
               "scope": "update_content", "capabilities": ["update_content"]}),
    );
    assert!(c.contains("update_content"), "{c}");
    let title: String = {
        use diesel::prelude::*;
        use pagegrant::db::schema::pages;
        pages::table
            .find(fx.eng.id.to_string())
            .select(pages::title)
            .first(&mut *fx.srv.conn())
            .unwrap()
    };
    assert_eq!(title, "Engineering");

    let writer = connect(&fx, WRITE, &[fx.eng.id.as_str()]);
    assert_eq!(
        tool_names(&fx, &writer),
        [
            "create_page",
            "fetch",
            "request_access",
            "search",
            "update_page"
        ]
    );
    // Every listed tool has input and output schemas.
    let v = rpc(&fx, &writer, "tools/list", json!({}));
    for t in v["result"]["tools"].as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
    }
}

#[test]
fn create_and_update_page_write_as_the_connection_and_are_audited() {
    let fx = fixture();
    let token = connect(&fx, WRITE, &[fx.eng.id.as_str()]);
    let r = call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": fx.eng.id.to_string(), "title": "Launch notes",
               "content": "First paragraph.\n\nSecond paragraph."}),
    );
    assert!(!is_error(&r), "{r}");
    let id = r["structuredContent"]["id"].as_str().unwrap().to_string();
    assert_eq!(r["structuredContent"]["blocks_added"], 2, "{r}");
    let r = call(
        &fx,
        &token,
        "update_page",
        json!({"id": id, "title": "Launch notes (final)", "append_content": "Third."}),
    );
    assert!(!is_error(&r), "{r}");
    assert_eq!(r["structuredContent"]["title"], "Launch notes (final)");
    // The new page is found and reads back.
    let r = call(&fx, &token, "search", json!({"query": "Launch"}));
    assert_eq!(titles(&r), ["Launch notes (final)"]);
    let r = call(&fx, &token, "fetch", json!({ "id": id }));
    let md = r["structuredContent"]["markdown"].as_str().unwrap();
    assert!(
        md.contains("First paragraph.") && md.contains("Third."),
        "{md}"
    );
    assert_eq!(r["structuredContent"]["path"], json!(["Engineering"]));
    // The audit log names the agent and the page.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, log) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/settings/audit?kind=agents", fx.acme.id)),
    );
    assert!(
        log.contains("Agent created Launch notes (final) through MCP"),
        "{log}"
    );
    assert!(log.contains("Agent changed Launch notes (final) through MCP"));
    // Bad input is a tool error, not a protocol failure.
    let r = call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": fx.eng.id.to_string(), "title": "x".repeat(2001)}),
    );
    assert!(is_error(&r) && text(&r).contains("2000"), "{r}");
    let r = call(&fx, &token, "update_page", json!({ "id": id }));
    assert!(
        is_error(&r) && text(&r).contains("Nothing to change"),
        "{r}"
    );
    let r = call(&fx, &token, "search", json!({"page_size": 500}));
    assert!(is_error(&r), "{r}");
}

#[test]
fn malformed_json_rpc_gets_json_rpc_errors() {
    let fx = fixture();
    let token = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    // Not JSON.
    let r = post(&fx, Some(&token), "{not json");
    let status = r.status().as_u16();
    let body = r.text().unwrap();
    assert!(status == 400 || status == 200, "{status} {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    assert_eq!(v["error"]["code"], -32700, "{body}");
    // An unknown method.
    let v = rpc(&fx, &token, "pages/steal", json!({}));
    assert_eq!(v["error"]["code"], -32601, "{v}");
    // tools/call without its params, and with an unknown tool.
    let r = post(
        &fx,
        Some(&token),
        &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call"}).to_string(),
    );
    let v: Value = r.json().unwrap();
    // rmcp reads a tools/call without params as no known request at all
    // (-32601); either way it is a JSON-RPC error for that id, not a 500.
    let code = v["error"]["code"].as_i64().unwrap_or(0);
    assert!(code == -32602 || code == -32601, "{v}");
    assert_eq!(v["id"], 7);
    let v = rpc(
        &fx,
        &token,
        "tools/call",
        json!({"name": "drop_tables", "arguments": {}}),
    );
    assert!(v["error"]["code"].is_i64(), "{v}");
    // A tool's arguments of the wrong type: a tool error the model can
    // read and correct (MCP 2025-11-25 puts input validation there).
    let r = call(&fx, &token, "fetch", json!({"id": 12}));
    assert!(
        is_error(&r) && text(&r).contains("expected a string"),
        "{r}"
    );
    // A batch (not part of the protocol since 2025-06-18).
    let r = post(
        &fx,
        Some(&token),
        &json!([{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}]).to_string(),
    );
    let status = r.status().as_u16();
    let body = r.text().unwrap();
    assert!(
        (400..500).contains(&status) || body.contains("\"error\""),
        "{status} {body}"
    );
}

#[test]
fn settings_marks_mcp_agents_with_their_last_use() {
    let fx = fixture();
    let token = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let settings = fx
        .srv
        .url(&format!("/w/{}/settings/connections", fx.acme.id));
    let (_, before) = get_html(&ada, &settings);
    assert!(!before.contains("MCP agent"), "not used yet");
    call(&fx, &token, "search", json!({}));
    let (_, after) = get_html(&ada, &settings);
    assert!(after.contains("MCP agent"), "{after}");
    assert!(after.contains("Last used"), "{after}");
}

#[test]
fn s67_blocking_a_client_stops_its_mcp_calls_at_once() {
    let fx = fixture();
    let token = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    let r = call(&fx, &token, "search", json!({}));
    assert!(!is_error(&r));
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = fx.acme.id.to_string();
    let (_, list) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/connections")));
    let integration_id = list
        .split("/settings/clients/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("Block this client link")
        .to_string();
    let block_url = fx
        .srv
        .url(&format!("/w/{ws}/settings/clients/{integration_id}/block"));
    let (_, confirm) = get_html(&ada, &block_url);
    let r = ada
        .post(&block_url)
        .form(&[("csrf", input_value(&confirm, "csrf").unwrap())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    assert_eq!(post(&fx, Some(&token), &body).status(), 401);
}

/// Issue 30: a tool call's token is resolved in the tool's own trip to the
/// database, so what the bearer check answered before the transport is
/// now answered after it. The connection's rate limit still holds on every
/// tool, as a 429 with Retry-After on the HTTP response (a revoked token's
/// 401 is `s65_a_disconnected_grant_stops_the_next_call`).
#[test]
fn mcp_tool_calls_are_rate_limited_per_connection_with_retry_after() {
    let fx = fixture_with(|c| {
        c.api.rate_limit_per_s = 1;
        c.api.rate_limit_burst = 3;
    });
    let token = connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    let search = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "search", "arguments": {"query": ""}}})
    .to_string();
    let fetch = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "fetch", "arguments": {"id": fx.eng.id.to_string()}}})
    .to_string();
    let statuses: Vec<u16> = [&search, &fetch, &search, &fetch, &search]
        .iter()
        .map(|b| post(&fx, Some(&token), b).status().as_u16())
        .collect();
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = post(&fx, Some(&token), &fetch);
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
}
