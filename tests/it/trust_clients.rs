//! Issue 25's trust round for clients that register themselves or are
//! identified by a Client ID Metadata Document, over HTTP against the real
//! server: CIMD bounds (S71), the registration throttle (S82), names
//! (S74), redirect URI schemes (S75), purged clients' tombstones,
//! `offline_access` and introspection's `aud` and `token_type`.

use std::time::Duration;

use crate::kit::docserver::{document, DocServer, Reply};
use crate::kit::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};

const CB: &str = AGENT_CB;

fn cimd_rows(fx: &Fx) -> i64 {
    fx.srv
        .count("integrations WHERE cimd_expires_at IS NOT NULL")
}

fn register(srv: &TestServer, body: &Value) -> Response {
    bare_client()
        .post(srv.url("/v1/oauth/register"))
        .json(body)
        .send()
        .expect("register")
}

fn public_client(name: &str, uris: &[&str]) -> Value {
    json!({
        "client_name": name,
        "redirect_uris": uris,
        "token_endpoint_auth_method": "none",
    })
}

fn description(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().expect("json"))
}

#[test]
fn cimd_anonymous_authorize_stores_no_client_s71() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| c.registration.cimd_dev_loopback = true);
    let ws = fx.acme.id.to_string();
    let anon = client();
    for n in 0..5 {
        let path = format!("/agent-{n}.json");
        let id = docs.url(&path);
        docs.document(&path, document(&id, "Agent", &[CB]));
        let r = authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws));
        assert_eq!(r.status(), 303, "{id}");
        assert!(location(&r).starts_with("/login"), "{}", location(&r));
    }
    assert_eq!(cimd_rows(&fx), 0, "nothing stored for anonymous requests");
    // Logging in and coming back stores the client, without a second fetch.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = docs.url("/agent-0.json");
    assert_eq!(
        authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws)).status(),
        200
    );
    assert_eq!(cimd_rows(&fx), 1);
    assert_eq!(
        docs.hits().iter().filter(|h| *h == "/agent-0.json").count(),
        1,
        "{:?}",
        docs.hits()
    );
}

#[test]
fn cimd_fetches_are_bounded_per_address_s71() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| {
        c.registration.cimd_dev_loopback = true;
        c.registration.cimd_fetches_per_ip_per_hour = 3;
    });
    let ws = fx.acme.id.to_string();
    let anon = client();
    for n in 0..4 {
        let path = format!("/doc-{n}.json");
        let id = docs.url(&path);
        docs.document(&path, document(&id, "Agent", &[CB]));
        let r = authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws));
        if n < 3 {
            assert_eq!(r.status(), 303, "{n}");
        } else {
            assert_eq!(r.status(), 429, "{n}");
            assert!(r.headers().get("retry-after").is_some());
            assert!(r.headers().get("location").is_none());
        }
    }
    assert_eq!(docs.hits().len(), 3, "the fourth was never fetched");
    // A document already checked costs nothing.
    let id = docs.url("/doc-0.json");
    assert_eq!(
        authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws)).status(),
        303
    );
}

#[test]
fn cimd_new_clients_are_bounded_per_address_s71() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| {
        c.registration.cimd_dev_loopback = true;
        c.registration.cimd_new_clients_per_ip_per_hour = 2;
    });
    let ws = fx.acme.id.to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    for n in 0..3 {
        let path = format!("/new-{n}.json");
        let id = docs.url(&path);
        docs.document(&path, document(&id, "Agent", &[CB]));
        let r = authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws));
        assert_eq!(r.status(), if n < 2 { 200 } else { 429 }, "{n}");
    }
    assert_eq!(cimd_rows(&fx), 2);
}

#[test]
fn cimd_document_served_as_html_is_refused_s71() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| c.registration.cimd_dev_loopback = true);
    let ws = fx.acme.id.to_string();
    let id = docs.url("/page.json");
    let body = serde_json::to_vec(&document(&id, "Agent", &[CB])).expect("json");
    docs.set(
        "/page.json",
        Reply::new(200, ("Content-Type", "text/html; charset=utf-8"), &body),
    );
    let ada = logged_in(&fx.srv, "ada@example.com");
    let r = authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws));
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let page = html_unescape(&r.text().expect("body"));
    assert!(page.contains("application/json"), "{page}");
    assert!(page.contains("text/html"), "{page}");
    assert_eq!(cimd_rows(&fx), 0);
    // The same document as application/json is fine.
    docs.document("/page.json", document(&id, "Agent", &[CB]));
    assert_eq!(
        authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws)).status(),
        200
    );
}

#[test]
fn unused_clients_are_purged_on_a_timer_with_registration_off_s71() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| {
        c.registration.cimd_dev_loopback = true;
        c.registration.dynamic = false;
        c.registration.unused_ttl_s = 1;
        c.registration.purge_interval_s = 1;
    });
    let ws = fx.acme.id.to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = docs.url("/once.json");
    docs.document("/once.json", document(&id, "Agent", &[CB]));
    assert_eq!(
        authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws)).status(),
        200
    );
    assert_eq!(cimd_rows(&fx), 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(6);
    while cimd_rows(&fx) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(cimd_rows(&fx), 0, "purged without any registration");
}

#[test]
fn registration_refusals_do_not_spend_the_registration_budget_s82() {
    let srv = TestServer::start_with(|c| {
        c.registration.max_per_ip_per_hour = 2;
        c.registration.max_refused_per_ip_per_hour = 4;
    });
    let bad = public_client("Agent", &["http://evil.example/cb"]);
    let good = public_client("Agent", &[CB]);
    for n in 0..3 {
        assert_eq!(register(&srv, &bad).status(), 400, "refusal {n}");
    }
    assert_eq!(register(&srv, &good).status(), 201);
    assert_eq!(register(&srv, &good).status(), 201);
    let r = register(&srv, &good);
    assert_eq!(r.status(), 429, "the budget of successful registrations");
    assert!(r.headers().get("retry-after").is_some());
    // Refusals have their own, higher cap.
    assert_eq!(register(&srv, &bad).status(), 400, "fourth refusal");
    assert_eq!(register(&srv, &bad).status(), 429, "past the refusal cap");
}

/// Names that read as the first-party "GitHub" the fixture holds.
const LOOK_ALIKES: [&str; 5] = [
    "GitHub\u{200b}",
    "Git\u{00ad}Hub",
    "G\u{0456}tHub",
    "\u{ff27}\u{ff49}\u{ff54}\u{ff48}\u{ff55}\u{ff42}",
    "\u{202e}buHtiG",
];

#[test]
fn look_alike_and_invisible_names_are_refused_everywhere_s74() {
    let fx = fixture();
    let before = fx.srv.count("integrations");
    for name in LOOK_ALIKES {
        let (status, v) = description(register(&fx.srv, &public_client(name, &[CB])));
        assert_eq!(status, 400, "{name:?}");
        assert_eq!(v["error"], "invalid_client_metadata", "{name:?}");
    }
    // My integrations.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &fx.srv.url("/developers"));
    let csrf = input_value(&page, "csrf").expect("csrf");
    for name in LOOK_ALIKES {
        let r = ada
            .post(fx.srv.url("/developers"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", name),
                ("kind", "public"),
                ("redirect_uris", CB),
            ])
            .send()
            .expect("post");
        assert_eq!(r.status(), 400, "{name:?}");
    }
    // The CLI.
    for name in LOOK_ALIKES {
        let out = pagegrant_on(
            &fx.srv,
            &["integration", "add", "--name", name, "--redirect-uri", CB],
            None,
        );
        assert!(!out.status.success(), "{name:?}");
    }
    assert_eq!(fx.srv.count("integrations"), before, "nothing stored");
    // An ordinary name with an accent is still a name.
    let (status, _) = description(register(&fx.srv, &public_client("Café Notes", &[CB])));
    assert_eq!(status, 201);
}

#[test]
fn rfc7592_update_follows_the_name_rules_s74() {
    let fx = fixture();
    let (status, v) = description(register(&fx.srv, &public_client("Agent", &[CB])));
    assert_eq!(status, 201);
    let uri = v["registration_client_uri"]
        .as_str()
        .expect("uri")
        .to_string();
    let token = v["registration_access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let put = |name: &str| {
        let mut body = public_client(name, &[CB]);
        body["client_id"] = v["client_id"].clone();
        bare_client()
            .put(&uri)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .expect("put")
    };
    for name in ["ppA\u{202e}", "Agent\u{2066}x", "Agent\u{200b}"]
        .into_iter()
        .chain(LOOK_ALIKES)
    {
        let (status, e) = description(put(name));
        assert_eq!(status, 400, "{name:?}");
        assert_eq!(e["error"], "invalid_client_metadata", "{name:?}");
    }
    let r = bare_client()
        .get(&uri)
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_eq!(r.json::<Value>().expect("json")["client_name"], "Agent");
    assert_eq!(put("Agent Two").status(), 200);
}

#[test]
fn web_clients_may_use_only_https_and_loopback_http_s75() {
    let fx = fixture();
    for uri in [
        "java.script:alert(1)",
        "com.example.app:/cb",
        "cursor://x/cb",
    ] {
        let mut body = public_client("Agent", &[uri]);
        body["application_type"] = json!("web");
        let (status, v) = description(register(&fx.srv, &body));
        assert_eq!(status, 400, "{uri}");
        assert_eq!(v["error"], "invalid_redirect_uri", "{uri}");
    }
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &fx.srv.url("/developers"));
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = ada
        .post(fx.srv.url("/developers"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Scripted"),
            ("kind", "public"),
            ("redirect_uris", "java.script:alert(1)"),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 400);
    let out = pagegrant_on(
        &fx.srv,
        &[
            "integration",
            "add",
            "--name",
            "Scripted",
            "--redirect-uri",
            "java.script:alert(1)",
        ],
        None,
    );
    assert!(
        !out.status.success(),
        "a confidential CLI client is a web client"
    );
}

#[test]
fn native_clients_may_not_use_os_handler_schemes_s75() {
    let srv = TestServer::start();
    for uri in [
        "ms-settings:privacy",
        "search-ms:query=x&crumb=location:\\\\evil\\share",
        "intent://scan/#Intent;scheme=zxing;end",
        "shell:startup",
        "tel:+15555550100",
        "itms-services://?action=download-manifest",
        "myapp:/cb",
    ] {
        let mut body = public_client("Agent", &[uri]);
        body["application_type"] = json!("native");
        let (status, v) = description(register(&srv, &body));
        assert_eq!(status, 400, "{uri}");
        assert_eq!(v["error"], "invalid_redirect_uri", "{uri}: {v}");
    }
    for uri in [
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "vscode://vscode.github-authentication/did-authenticate",
        "com.example.app:/cb",
        "http://127.0.0.1:33418/",
    ] {
        let mut body = public_client("Agent", &[uri]);
        body["application_type"] = json!("native");
        assert_eq!(register(&srv, &body).status(), 201, "{uri}");
    }
}

#[test]
fn native_schemes_refuse_os_handlers_even_when_configured_s75() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("config.toml"),
        "[registration]\nnative_schemes = [\"cursor\", \"ms-settings\"]\n",
    )
    .expect("write");
    let out = pagegrant(dir.path(), &["migrate"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("registration.native_schemes"), "{err}");
    assert!(err.contains("ms-settings"), "{err}");
}

#[test]
fn purged_client_id_gets_a_page_to_sign_in_again_s71() {
    let fx = fixture_with(|c| {
        c.registration.unused_ttl_s = 1;
        c.registration.purge_interval_s = 1;
    });
    let (status, v) = description(register(&fx.srv, &public_client("Remote Agent", &[CB])));
    assert_eq!(status, 201);
    let id = v["client_id"].as_str().expect("id").to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(6);
    while fx
        .srv
        .count(&format!("integrations WHERE client_id = '{id}'"))
        > 0
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let ws = fx.acme.id.to_string();
    let r = authorize_get(&client(), &fx, &pkce_request(&id, CB, &ws));
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let page = html_unescape(&r.text().expect("body"));
    assert!(page.contains("Start signing in again"), "{page}");
    assert!(page.contains("Remote Agent"), "{page}");
    assert!(
        !page.contains("No integration with this client_id"),
        "{page}"
    );
    assert_eq!(fx.srv.count("client_tombstones"), 1);
}

#[test]
fn authorization_requests_keep_a_client_from_the_purge_s71() {
    let fx = fixture_with(|c| {
        c.registration.unused_ttl_s = 2;
        c.registration.purge_interval_s = 1;
    });
    let (status, v) = description(register(&fx.srv, &public_client("Remote Agent", &[CB])));
    assert_eq!(status, 201);
    let id = v["client_id"].as_str().expect("id").to_string();
    let anon = client();
    let ws = fx.acme.id.to_string();
    let ask = || authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws));
    // Used every half second for four seconds, twice the TTL: it stays.
    for _ in 0..8 {
        assert_eq!(ask().status(), 303, "to the login page");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        fx.srv
            .count(&format!("integrations WHERE client_id = '{id}'")),
        1
    );
}

/// A public dynamic client's tokens for `scope`, through consent.
fn tokens_with_scope(fx: &Fx, scope: &str) -> Value {
    let (status, v) = description(register(&fx.srv, &public_client("Scoped", &[CB])));
    assert_eq!(status, 201);
    let id = v["client_id"].as_str().expect("id").to_string();
    let ws = fx.acme.id.to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let mut p = pkce_request(&id, CB, &ws);
    p.push(("scope", scope));
    let r = authorize_get(&ada, fx, &p);
    assert_eq!(r.status(), 200);
    let page = r.text().expect("page");
    let r = answer(fx, &ada, &page, "allow", &[fx.eng.id.as_str()]);
    let code = code_of(&r);
    let r = exchange_pkce(fx, &id, &code, &[("redirect_uri", CB)]);
    assert_eq!(r.status(), 200);
    let mut t: Value = r.json().expect("json");
    t["client_id"] = json!(id);
    t
}

#[test]
fn offline_access_granted_is_echoed_in_token_and_refresh_responses_s25() {
    let fx = fixture();
    let t = tokens_with_scope(&fx, "read_content offline_access");
    assert_eq!(t["scope"], "read_content offline_access");
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().expect("rt")),
            ("client_id", t["client_id"].as_str().expect("id")),
        ])
        .send()
        .expect("refresh");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().expect("json");
    assert_eq!(v["scope"], "read_content offline_access");
    // Not asked, not echoed.
    let t = tokens_with_scope(&fx, "read_content");
    assert_eq!(t["scope"], "read_content");
}

#[test]
fn introspection_names_the_audience_and_rfc6749_token_type_s41() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let conf_id = fx.conf.integration.client_id.clone();
    let secret = fx.conf.client_secret.clone().expect("secret");
    let ws = fx.acme.id.to_string();
    let mcp = fx.srv.url("/mcp");
    let p = vec![
        ("client_id", conf_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", "https://partner.example/cb"),
        ("workspace_id", ws.as_str()),
        ("resource", mcp.as_str()),
    ];
    let r = authorize_get(&ada, &fx, &p);
    assert_eq!(r.status(), 200);
    let page = r.text().expect("page");
    let r = answer(&fx, &ada, &page, "allow", &[fx.eng.id.as_str()]);
    let code = code_of(&r);
    let t: Value = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(&conf_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://partner.example/cb"),
        ])
        .send()
        .expect("token")
        .json()
        .expect("json");
    let introspect = |token: &str| -> Value {
        bare_client()
            .post(fx.srv.url("/v1/oauth/introspect"))
            .basic_auth(&conf_id, Some(&secret))
            .form(&[("token", token)])
            .send()
            .expect("introspect")
            .json()
            .expect("json")
    };
    let at = introspect(t["access_token"].as_str().expect("at"));
    assert_eq!(at["active"], true);
    assert_eq!(at["aud"], mcp.as_str());
    assert_eq!(at["token_type"], "Bearer");
    let rt = introspect(t["refresh_token"].as_str().expect("rt"));
    assert_eq!(rt["active"], true);
    assert_eq!(rt["aud"], mcp.as_str());
    assert_eq!(rt["token_type"], "refresh_token");
}

#[test]
fn registration_errors_quote_values_without_question_marks_s37() {
    let srv = TestServer::start();
    let mut body = public_client("Agent", &[CB]);
    body["scope"] = json!("openid");
    let (status, v) = description(register(&srv, &body));
    assert_eq!(status, 400);
    let d = v["error_description"].as_str().expect("description");
    assert!(d.contains("'openid'"), "{d}");
    assert!(!d.contains('?'), "{d}");
}
