//! Speaking to `/mcp`: an agent registers itself, is connected through the
//! real consent page, and calls tools over JSON-RPC.

use reqwest::blocking::Response;
use serde_json::{json, Value};

use super::consent::{answer, base, code_of, consent_page, logged_in};
use super::server::bare_client;
use super::token::exchange_pkce;
use super::world::Fx;
use super::{CB, CHALLENGE};

/// A self-registered public client asking for `scope`.
pub fn register(fx: &Fx, scope: &str) -> String {
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/register"))
        .json(&json!({
            "client_name": "Agent",
            "redirect_uris": [CB],
            "token_endpoint_auth_method": "none",
            "scope": scope,
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Ada connects a new agent to Acme with `pages` ticked, for `resource`;
/// its access token and client id.
pub fn connect_for(fx: &Fx, scope: &str, pages: &[&str], resource: &str) -> (String, String) {
    connect_asking(fx, scope, None, pages, resource)
}

/// As `connect_for`, for an agent registered with `registered` scope that
/// asks for `asked` (when given) at authorization.
pub fn connect_asking(
    fx: &Fx,
    registered: &str,
    asked: Option<&str>,
    pages: &[&str],
    resource: &str,
) -> (String, String) {
    let id = register(fx, registered);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = fx.acme.id.to_string();
    let mut extra = vec![
        ("workspace_id", ws.as_str()),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("resource", resource),
    ];
    if let Some(scope) = asked {
        extra.push(("scope", scope));
    }
    let page = consent_page(fx, &ada, &base(&id, &extra));
    let r = answer(fx, &ada, &page, "allow", pages);
    assert_eq!(r.status(), 303);
    let code = code_of(&r);
    let r = exchange_pkce(fx, &id, &code, &[("resource", resource)]);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    (t["access_token"].as_str().unwrap().to_string(), id)
}

pub fn connect(fx: &Fx, scope: &str, pages: &[&str]) -> String {
    connect_for(fx, scope, pages, &fx.srv.url("/mcp")).0
}

pub const WRITE: &str = "read_content insert_content update_content";

pub fn post(fx: &Fx, token: Option<&str>, body: &str) -> Response {
    let mut r = bare_client()
        .post(fx.srv.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    // Clients send the negotiated version on every request after initialize.
    if !body.contains(r#""method":"initialize""#) {
        r = r.header("mcp-protocol-version", "2025-06-18");
    }
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().unwrap()
}

/// One JSON-RPC call; its whole response object.
pub fn rpc(fx: &Fx, token: &str, method: &str, params: Value) -> Value {
    let r = post(
        fx,
        Some(token),
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
    );
    let status = r.status();
    if status != 200 {
        panic!("{method}: {status} {}", r.text().unwrap_or_default());
    }
    let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("application/json"), "{method}: {ctype}");
    // A whole JSON answer says its length (not chunked).
    assert!(
        r.headers().contains_key("content-length"),
        "{method}: no Content-Length in {:?}",
        r.headers()
    );
    r.json().unwrap()
}

pub fn call(fx: &Fx, token: &str, tool: &str, args: Value) -> Value {
    let v = rpc(
        fx,
        token,
        "tools/call",
        json!({"name": tool, "arguments": args}),
    );
    assert!(v.get("error").is_none(), "{tool}: {v}");
    v["result"].clone()
}
