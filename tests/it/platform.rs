//! Health, metrics, static assets and the error formats of unknown routes.

use crate::kit::*;

#[test]
fn healthz_answers_when_the_database_does() {
    let srv = TestServer::start();
    let r = client().get(srv.url("/healthz")).send().expect("healthz");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().expect("json");
    assert_eq!(v["status"], "ok");
}

#[test]
fn metrics_count_requests_by_route_and_status() {
    let srv = TestServer::start();
    let c = client();
    c.get(srv.url("/login")).send().expect("login");
    c.get(srv.url("/w/00000000-0000-4000-8000-000000000000"))
        .send()
        .expect("ws");
    let body = c
        .get(srv.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("body");
    assert!(
        body.contains(
            r#"pagegrant_http_requests_total{method="GET",route="/login",status="200"} 1"#
        ),
        "{body}"
    );
    assert!(
        body.contains(r#"route="/w/{workspace_id}",status="303""#),
        "{body}"
    );
    assert!(body.contains("pagegrant_http_request_duration_seconds_bucket"));
    assert!(body.contains("pagegrant_db_pool_connections"));
    assert!(
        !body.contains("00000000-0000-4000"),
        "raw paths never become labels"
    );
}

#[test]
fn unknown_routes_get_the_right_error_format() {
    let srv = TestServer::start();
    let c = client();
    let r = c
        .get(srv.url("/v1/no-such-endpoint"))
        .send()
        .expect("api 404");
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("x-notion-request-id").is_some());
    let v: serde_json::Value = r.json().expect("json");
    assert_eq!(v["object"], "error");
    assert_eq!(v["status"], 404);
    assert_eq!(v["code"], "object_not_found");
    assert!(v["request_id"].is_string());
    let r = c.get(srv.url("/nothing-here")).send().expect("html 404");
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html"));
    assert!(r.text().expect("body").contains("Page not found"));
}

#[test]
fn static_assets_are_served_by_the_binary() {
    let srv = TestServer::start();
    let r = client()
        .get(srv.url("/static/style.css"))
        .send()
        .expect("css");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/css"));
    assert!(r.text().expect("body").contains(".sidebar"));
    assert_eq!(
        client()
            .get(srv.url("/static/../Cargo.toml"))
            .send()
            .expect("x")
            .status(),
        404
    );
    assert_eq!(
        client()
            .get(srv.url("/static/nope.js"))
            .send()
            .expect("x")
            .status(),
        404
    );
}

#[test]
fn bad_form_bodies_are_400_pages_not_500() {
    let srv = TestServer::start();
    let c = client();
    let _ = c.get(srv.url("/login")).send();
    let r = c
        .post(srv.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'%', 0xff, 0xfe])
        .send()
        .expect("post");
    assert!(r.status() == 400 || r.status() == 403, "{}", r.status());
    let r = c
        .post(srv.url("/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .expect("post");
    // Not our form, so no CSRF token: refused as such, with a page.
    assert_eq!(r.status(), 403);
    assert!(r.text().expect("body").contains("Not allowed"));
}
