//! `/openapi.json` documents every JSON route the server mounts.

use crate::kit::*;
use serde_json::Value;

/// Route paths as the source registers them (`"/v1/..."`, `"/.well-known/..."`).
fn registered_routes() -> Vec<String> {
    let mut out = Vec::new();
    // The one route table.
    for file in ["src/server.rs"] {
        let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
            .expect("source");
        for piece in text.split('"').skip(1).step_by(2) {
            if (piece.starts_with("/v1/")
                || piece.starts_with("/.well-known/")
                || piece == "/openapi.json")
                && !piece.contains(' ')
            {
                out.push(piece.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_mounted_json_route_is_documented_and_every_documented_one_answers() {
    let srv = TestServer::start();
    let r = bare_client()
        .get(srv.url("/openapi.json"))
        .send()
        .expect("get");
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let paths = doc["paths"].as_object().expect("paths");
    let routes = registered_routes();
    assert!(routes.len() >= 12, "{routes:?}");
    for route in &routes {
        assert!(
            paths.contains_key(route),
            "{route} is mounted but not in openapi.json"
        );
    }
    // And each documented operation is mounted: it never reaches the fallback.
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
        for method in ops.as_object().expect("ops").keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = bare_client()
                .request(m, srv.url(&concrete))
                .send()
                .expect("request");
            let status = r.status().as_u16();
            let body = r.text().unwrap_or_default();
            assert!(
                !body.contains("Invalid request URL") && !body.contains("Page not found"),
                "{method} {path} is not mounted ({status})"
            );
        }
    }
}
