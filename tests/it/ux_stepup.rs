//! Step-up for capabilities (issue 29 items 2 and 7), over plain HTTP: a
//! call the token's capabilities do not allow is a 403 with RFC 6750's
//! `insufficient_scope` challenge, at `/mcp` (on the `tools/call` response
//! itself) and at `/v1`; re-consent shows only what is new and keeps the
//! pages; the wider token's retry succeeds. Also `/mcp`'s 401 asking for
//! reading first, a foreign `Host` told the issuer's URL, and the one
//! warning when a client metadata document cannot be fetched.

use reqwest::blocking::Response;
use serde_json::{json, Value};

use crate::kit::mcp::{call, connect_for, post, rpc};
use crate::kit::*;

fn tools_call(fx: &Fx, token: &str, tool: &str, args: Value) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": tool, "arguments": args}});
    post(fx, Some(token), &body.to_string())
}

fn challenge(r: &Response) -> String {
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn page_count(fx: &Fx) -> i64 {
    use diesel::prelude::*;
    use pagegrant::db::schema::pages;
    pages::table
        .count()
        .get_result(&mut *fx.srv.conn())
        .unwrap()
}

/// Ada answers a re-consent for `client` asking `scope` for `resource`
/// with `pages` ticked; the consent page and the new access token.
fn reconsent(
    fx: &Fx,
    client: &str,
    scope: &str,
    resource: &str,
    pages: &[&str],
) -> (String, Value) {
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = fx.acme.id.to_string();
    let params = base(
        client,
        &[
            ("workspace_id", ws.as_str()),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", resource),
            ("scope", scope),
        ],
    );
    let page = consent_page(fx, &ada, &params);
    let r = answer(fx, &ada, &page, "allow", pages);
    assert_eq!(r.status(), 303, "consent answer");
    let code = code_of(&r);
    let r = exchange_pkce(fx, client, &code, &[("resource", resource)]);
    assert_eq!(r.status(), 200);
    (page, r.json().unwrap())
}

/// Whether the picker row of `id` on `page` is ticked.
fn ticked(page: &str, id: &str) -> bool {
    let needle = format!(r#"name="page" value="{id}""#);
    page.split(&needle)
        .nth(1)
        .is_some_and(|rest| rest.trim_start().starts_with("checked"))
}

/// S102: a read-only agent's `create_page` and `update_page` are answered
/// before they run with 403 and the step-up challenge on the HTTP
/// response, naming what it holds and what it needs; nothing is written.
/// tools/list shows every tool, those it lacks marked.
#[test]
fn s102_mcp_call_beyond_the_grant_is_a_403_step_up_challenge() {
    let fx = fixture();
    let mcp = fx.srv.url("/mcp");
    let (token, _) = connect_for(&fx, "read_content", &[fx.eng.id.as_str()], &mcp);
    let meta = fx.srv.url("/.well-known/oauth-protected-resource/mcp");
    let before = page_count(&fx);

    let r = tools_call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": fx.eng.id.to_string(), "title": "New"}),
    );
    assert_eq!(r.status(), 403);
    let c = challenge(&r);
    assert!(
        c.starts_with(&format!(
            r#"Bearer error="insufficient_scope", scope="read_content insert_content", resource_metadata="{meta}""#
        )),
        "{c}"
    );
    let body: Value = r.json().unwrap();
    assert_eq!(body["id"], 7, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("insert_content"),
        "{body}"
    );
    // A rename needs update_content, an append insert_content.
    let r = tools_call(
        &fx,
        &token,
        "update_page",
        json!({"id": fx.eng.id.to_string(), "title": "Renamed"}),
    );
    assert_eq!(r.status(), 403);
    assert!(
        challenge(&r).contains(r#"scope="read_content update_content""#),
        "{}",
        challenge(&r)
    );
    let r = tools_call(
        &fx,
        &token,
        "update_page",
        json!({"id": fx.eng.id.to_string(), "append_content": "More.", "title": null}),
    );
    assert_eq!(r.status(), 403);
    assert!(
        challenge(&r).contains(r#"scope="read_content insert_content""#),
        "{}",
        challenge(&r)
    );
    assert_eq!(page_count(&fx), before, "nothing was created");
    let r = call(&fx, &token, "fetch", json!({"id": fx.eng.id.to_string()}));
    assert_eq!(r["structuredContent"]["title"], "Engineering");

    // Reading needs no step-up, and an unknown tool is the transport's.
    let r = tools_call(&fx, &token, "search", json!({}));
    assert_eq!(r.status(), 200);
    let r = tools_call(&fx, &token, "no_such_tool", json!({}));
    assert_eq!(r.status(), 200);

    let v = rpc(&fx, &token, "tools/list", json!({}));
    let tools = v["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // Every tool is listed; `request_access` (issue 29 item 1) is open to
    // every connection, so it is never marked.
    assert_eq!(names.len(), 5, "{v}");
    for t in tools {
        let marked = t["description"]
            .as_str()
            .unwrap()
            .contains("Needs more access");
        let writes = t["annotations"]["readOnlyHint"] == false && t["name"] != "request_access";
        assert_eq!(marked, writes, "{t}");
    }
}

/// S102 over `/v1`: a read-only OAuth token's create is Notion's
/// `restricted_resource` with the challenge for the API's metadata.
/// S103: re-consent asking for more shows only what is new, keeps the
/// shared pages ticked, and the new token's retry succeeds.
#[test]
fn s102_s103_v1_step_up_then_re_consent_then_the_retry_succeeds() {
    let fx = fixture();
    let v1 = fx.srv.url("/v1");
    let (token, client) = connect_for(&fx, "read_content", &[fx.eng.id.as_str()], &v1);
    let create = json!({"parent": {"page_id": fx.eng.id.as_str()},
        "properties": {"title": {"title": [{"text": {"content": "Stepped up"}}]}}});
    let r = api_request(&fx, &token, "POST", "/v1/pages", Some(create.clone()));
    assert_eq!(r.status(), 403);
    let c = challenge(&r);
    let meta = fx.srv.url("/.well-known/oauth-protected-resource/v1");
    assert!(
        c.starts_with(&format!(
            r#"Bearer error="insufficient_scope", scope="read_content insert_content", resource_metadata="{meta}""#
        )),
        "{c}"
    );
    assert_eq!(r.json::<Value>().unwrap()["code"], "restricted_resource");

    let (page, t) = reconsent(
        &fx,
        &client,
        "read_content insert_content",
        &v1,
        &[fx.eng.id.as_str()],
    );
    assert!(page.contains("also wants to"), "{page}");
    assert!(page.contains("<li>Insert content</li>"), "{page}");
    assert!(!page.contains("<li>Read content</li>"), "only what is new");
    assert!(page.contains("Already allowed: read content"), "{page}");
    assert!(
        ticked(&page, fx.eng.id.as_str()),
        "the shared page stays ticked"
    );
    assert!(!ticked(&page, fx.roadmap.id.as_str()));
    assert_eq!(t["scope"], "read_content insert_content", "{t}");
    let wider = t["access_token"].as_str().unwrap();
    let r = api_request(&fx, wider, "POST", "/v1/pages", Some(create.clone()));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    // The old token keeps its narrower grant.
    let r = api_request(&fx, &token, "POST", "/v1/pages", Some(create.clone()));
    assert_eq!(r.status(), 403);
    // The widening is audited.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, log) = get_html(
        &ada,
        &fx.srv.url(&format!("/w/{}/settings/audit", fx.acme.id)),
    );
    assert!(log.contains("now also insert_content"), "{log}");

    // An internal integration's token has nobody to ask: the same 403,
    // no challenge.
    let created = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Reports".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            capabilities: vec!["read_content".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let internal = created.internal_token.unwrap();
    let r = api_request(&fx, &internal, "POST", "/v1/pages", Some(create));
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("www-authenticate").is_none());
}

/// S103 for MCP: the re-consent of a read-only agent, then the same
/// `create_page` succeeds, inside the pages it had.
#[test]
fn s103_mcp_re_consent_keeps_the_pages_and_the_retry_succeeds() {
    let fx = fixture();
    let mcp = fx.srv.url("/mcp");
    let (token, client) = connect_for(&fx, "read_content", &[fx.eng.id.as_str()], &mcp);
    let args = json!({"parent_id": fx.eng.id.to_string(), "title": "From the agent"});
    let r = tools_call(&fx, &token, "create_page", args.clone());
    assert_eq!(r.status(), 403);
    let (page, t) = reconsent(
        &fx,
        &client,
        "read_content insert_content",
        &mcp,
        &[fx.eng.id.as_str()],
    );
    assert!(page.contains("Agent also wants to"), "{page}");
    assert!(page.contains("AI agent (MCP)"), "{page}");
    let wider = t["access_token"].as_str().unwrap();
    let r = call(&fx, wider, "create_page", args);
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(r["structuredContent"]["title"], "From the agent");
    // Still only the pages it had: Roadmap sits under Engineering, the
    // private page of Ada's is out of reach.
    let r = call(
        &fx,
        wider,
        "fetch",
        json!({"id": fx.ada_private.id.to_string()}),
    );
    assert_eq!(r["isError"], true, "{r}");
    // A configured integration cannot ask beyond its capabilities.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let r = authorize_get(
        &ada,
        &fx,
        &base(
            &fx.conf.integration.client_id,
            &[("scope", "read_content insert_content")],
        ),
    );
    let status = r.status().as_u16();
    let to = location(&r);
    assert!(
        status == 303 && to.contains("error=invalid_scope"),
        "{status} {to}"
    );
}

/// S104: `/mcp` reached through another host name than the issuer's
/// (here `localhost` for an issuer on 127.0.0.1) is a JSON-RPC error
/// naming `{issuer}/mcp`, before any 401; the 401 asks for reading first,
/// and the protected-resource metadata still lists every MCP scope.
#[test]
fn s104_mcp_through_another_host_name_is_told_the_issuer_url() {
    let fx = fixture();
    let issuer = &fx.srv.config.server.issuer;
    let port = url::Url::parse(issuer).unwrap().port().unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    for host in [format!("localhost:{port}"), "evil.example".to_string()] {
        let r = bare_client()
            .post(fx.srv.url("/mcp"))
            .header("host", &host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(init.to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{host}");
        assert!(r.headers().get("www-authenticate").is_none());
        let v: Value = r.json().unwrap();
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("{issuer}/mcp")), "{msg}");
        assert_eq!(v["jsonrpc"], "2.0");
    }
    // Through the issuer's own name: the 401 names the read scope.
    let r = post(&fx, None, &init.to_string());
    assert_eq!(r.status(), 401);
    assert!(
        challenge(&r).contains(r#"scope="read_content""#),
        "{}",
        challenge(&r)
    );
    let m: Value = bare_client()
        .get(fx.srv.url("/.well-known/oauth-protected-resource/mcp"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        m["scopes_supported"],
        json!(["read_content", "insert_content", "update_content"])
    );
}

/// Issue 29 item 7: the first client metadata document that cannot be
/// fetched makes the server say, once, that a deployment without outbound
/// internet should set `registration.cimd = false`.
#[test]
fn a_failed_cimd_fetch_says_once_how_to_turn_cimd_off() {
    use crate::kit::process::{world, Proc};
    let w = world(1);
    let p = Proc::serve(w.dir.path(), "cimd.log", &[]);
    for n in 0..2 {
        let u = format!(
            "{}?client_id=https://pagegrant-test-{n}.invalid/agent.json&response_type=code&redirect_uri=https://agent.example/cb",
            p.url("/v1/oauth/authorize")
        );
        let r = bare_client().get(u).send().unwrap();
        assert_eq!(r.status(), 400, "an error page, never a redirect");
    }
    let log = p.log_text();
    assert_eq!(
        log.matches("set registration.cimd = false").count(),
        1,
        "{log}"
    );
}

/// Whether `v` is valid against `schema` (the JSON Schema subset schemars
/// writes: `$ref` into `$defs`, `type` (one or several), `properties`,
/// `required`, `items`, `anyOf`/`oneOf`, `minimum`/`maximum`); the first
/// error, with its path.
fn validate(root: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        let defs = root.get("$defs").or_else(|| root.get("definitions"));
        let target = defs
            .and_then(|d| d.get(name))
            .ok_or(format!("{at}: no {r}"))?;
        return validate(root, target, v, at);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            if !options.iter().any(|o| validate(root, o, v, at).is_ok()) {
                return Err(format!("{at}: matches none of {key}"));
            }
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            return Err(format!("{at}: {n} < {min}"));
        }
    }
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        if v.get(name).is_none() {
            return Err(format!("{at}: {name} is required"));
        }
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), v.as_object()) {
        for (k, sub) in props {
            if let Some(x) = obj.get(k) {
                validate(root, sub, x, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(root, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Issue 29 item 4: tools/list gives each tool a title and the annotations
/// clients use to show and auto-approve it, and each call's
/// structuredContent is valid against the tool's outputSchema.
#[test]
fn tools_have_titles_annotations_and_results_valid_against_their_output_schema() {
    let fx = fixture();
    let mcp = fx.srv.url("/mcp");
    let (token, _) = connect_for(&fx, crate::kit::mcp::WRITE, &[fx.eng.id.as_str()], &mcp);
    let v = rpc(&fx, &token, "tools/list", json!({}));
    let tools: std::collections::BTreeMap<String, Value> = v["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
        .collect();
    let want = [
        (
            "search",
            "Search pages",
            json!({"readOnlyHint": true, "idempotentHint": true}),
        ),
        (
            "fetch",
            "Read a page",
            json!({"readOnlyHint": true, "idempotentHint": true}),
        ),
        (
            "create_page",
            "Create a page",
            json!({"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false}),
        ),
        (
            "update_page",
            "Update a page",
            json!({"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false}),
        ),
        (
            "request_access",
            "Ask for more pages",
            json!({"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false}),
        ),
    ];
    for (name, title, hints) in want {
        let t = &tools[name];
        assert_eq!(t["title"], title, "{t}");
        assert_eq!(t["annotations"]["title"], title, "{t}");
        assert_eq!(t["annotations"]["openWorldHint"], false, "{t}");
        for (k, val) in hints.as_object().unwrap() {
            assert_eq!(&t["annotations"][k], val, "{name} {k}");
        }
        assert!(!t["description"]
            .as_str()
            .unwrap()
            .contains("Needs more access"));
    }
    let instructions = rpc(
        &fx,
        &token,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert!(
        instructions["result"]["instructions"]
            .as_str()
            .unwrap()
            .contains("request_access"),
        "{instructions}"
    );

    let made = call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": fx.eng.id.to_string(), "title": "Schema", "content": "Text."}),
    );
    let id = made["structuredContent"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let results = [
        ("create_page", made),
        ("search", call(&fx, &token, "search", json!({"query": ""}))),
        (
            "fetch",
            call(&fx, &token, "fetch", json!({"id": fx.eng.id.to_string()})),
        ),
        (
            "update_page",
            call(
                &fx,
                &token,
                "update_page",
                json!({"id": id, "append_content": "More."}),
            ),
        ),
    ];
    for (name, r) in results {
        let schema = &tools[name]["outputSchema"];
        let content = &r["structuredContent"];
        assert!(content.is_object(), "{name}: {r}");
        validate(schema, schema, content, name).unwrap_or_else(|e| panic!("{e}\n{r}"));
    }
    // The checker does check: a result without a required field fails.
    let schema = &tools["search"]["outputSchema"];
    assert!(validate(schema, schema, &json!({"results": []}), "search").is_err());
    assert!(validate(
        schema,
        schema,
        &json!({"results": [{"id": 1}], "has_more": false}),
        "search"
    )
    .is_err());
}
