//! Clients that register themselves: RFC 7591 registration, RFC 7592
//! management, and discovery (DESIGN §7; SECURITY S58–S60), over HTTP.

use crate::kit::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};

fn register(srv: &TestServer, body: Value) -> Response {
    bare_client()
        .post(srv.url("/v1/oauth/register"))
        .json(&body)
        .send()
        .expect("register")
}

fn registered(srv: &TestServer, body: Value) -> Value {
    let r = register(srv, body);
    assert_eq!(r.status(), 201, "registration refused");
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().expect("json")
}

fn manage(
    srv: &TestServer,
    method: reqwest::Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Response {
    assert!(uri.starts_with(&srv.base), "{uri} is on this server");
    let mut r = bare_client().request(method, uri);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().expect("manage")
}

fn public_client(uris: &[&str]) -> Value {
    json!({
        "client_name": "Agent",
        "redirect_uris": uris,
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    })
}

#[test]
fn registration_of_a_public_client_returns_rfc7591_fields() {
    let srv = TestServer::start();
    let v = registered(&srv, public_client(&[CB]));
    assert!(v["client_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v.get("client_secret").is_none(), "{v}");
    assert_eq!(v["client_secret_expires_at"], 0);
    assert!(v["client_id_issued_at"].as_i64().is_some());
    assert_eq!(v["token_endpoint_auth_method"], "none");
    assert_eq!(v["redirect_uris"], json!([CB]));
    assert_eq!(v["client_name"], "Agent");
    assert_eq!(
        v["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(v["response_types"], json!(["code"]));
    // 256 bits, base64url without padding.
    assert_eq!(v["registration_access_token"].as_str().unwrap().len(), 43);
    assert_eq!(
        v["registration_client_uri"],
        srv.url(&format!(
            "/v1/oauth/register/{}",
            v["client_id"].as_str().unwrap()
        ))
    );
}

#[test]
fn registration_of_a_confidential_client_returns_a_working_secret() {
    let fx = fixture();
    let mut body = public_client(&[CB]);
    body["token_endpoint_auth_method"] = json!("client_secret_post");
    let v = registered(&fx.srv, body);
    let secret = v["client_secret"].as_str().expect("secret");
    let id = v["client_id"].as_str().unwrap();
    // The secret authenticates: a wrong code is invalid_grant, not invalid_client.
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_grant");
}

#[test]
fn registration_with_cursors_three_redirect_uris_succeeds() {
    let srv = TestServer::start();
    let uris = [
        "https://cursor.com/oauth/callback",
        "http://127.0.0.1:53682/oauth/callback",
        "cursor://anysphere.cursor-mcp/oauth/callback",
    ];
    let v = registered(
        &srv,
        json!({
            "client_name": "Cursor",
            "redirect_uris": uris,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }),
    );
    let mut got: Vec<String> = serde_json::from_value(v["redirect_uris"].clone()).unwrap();
    got.sort();
    let mut want: Vec<String> = uris.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(v["application_type"], "native");
}

#[test]
fn registration_reads_chatgpts_plural_auth_method_field() {
    let srv = TestServer::start();
    let v = registered(
        &srv,
        json!({
            "client_name": "ChatGPT",
            "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
            "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }),
    );
    assert_eq!(v["token_endpoint_auth_method"], "none");
    assert!(v.get("client_secret").is_none());
}

#[test]
fn registration_validates_every_redirect_uri_s58() {
    let srv = TestServer::start();
    let before = srv.count("integrations");
    for bad in [
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "vbscript:x",
        "http://evil.example/cb",
        "https://good.example/cb#frag",
        "https://*.example/cb",
        "https://user:pw@good.example/cb",
        "not a uri",
    ] {
        let r = register(&srv, public_client(&[CB, bad, "http://127.0.0.1/cb"]));
        assert_eq!(r.status(), 400, "{bad}");
        let v: Value = r.json().unwrap();
        assert_eq!(v["error"], "invalid_redirect_uri", "{bad}");
        let named = v["error_description"].as_str().unwrap();
        assert!(named.contains(&bad.replace('"', "?")), "{bad}: {named}");
    }
    // A web app may not use an app scheme; a native one may.
    let mut web = public_client(&["cursor://anysphere.cursor-mcp/oauth/callback"]);
    web["application_type"] = json!("web");
    let r = register(&srv, web);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_redirect_uri");
    let r = register(&srv, public_client(&[]));
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_redirect_uri");
    assert_eq!(srv.count("integrations"), before, "nothing stored");
    // Unknown fields are ignored, bad metadata is named.
    let mut extra = public_client(&[CB]);
    extra["software_statement_x"] = json!("<script>");
    extra["jwks"] = json!({"keys": []});
    assert_eq!(register(&srv, extra).status(), 201);
    let mut grant = public_client(&[CB]);
    grant["grant_types"] = json!(["client_credentials"]);
    let v: Value = register(&srv, grant).json().unwrap();
    assert_eq!(v["error"], "invalid_client_metadata");
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("client_credentials"));
    let r = bare_client()
        .post(srv.url("/v1/oauth/register"))
        .header("content-type", "application/json")
        .body("[1,2")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().unwrap()["error"],
        "invalid_client_metadata"
    );
}

#[test]
fn registration_token_alone_manages_its_client_s59() {
    let srv = TestServer::start();
    let a = registered(&srv, public_client(&[CB]));
    let b = registered(&srv, public_client(&["https://other.example/cb"]));
    let uri = a["registration_client_uri"].as_str().unwrap();
    let token = a["registration_access_token"].as_str().unwrap();
    let other = b["registration_access_token"].as_str().unwrap();
    // Stored hashed: the token's text is nowhere in the database.
    let hash: Vec<String> = {
        use diesel::prelude::*;
        use pagegrant::db::schema::integrations::dsl as i;
        i::integrations
            .filter(i::dynamic.eq(true))
            .select(i::registration_token_hash.assume_not_null())
            .load(&mut srv.conn())
            .unwrap()
    };
    assert!(hash.iter().all(|h| h != token && h.len() == 64));

    for (what, t) in [
        ("no token", None),
        ("another client's", Some(other)),
        ("garbage", Some("garbage")),
    ] {
        for m in [reqwest::Method::GET, reqwest::Method::DELETE] {
            let r = manage(&srv, m.clone(), uri, t, None);
            assert_eq!(r.status(), 401, "{what} {m}");
            assert!(r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"));
            assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_token");
        }
    }
    let r = manage(&srv, reqwest::Method::GET, uri, Some(token), None);
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["client_id"], a["client_id"]);
    assert_eq!(v["redirect_uris"], json!([CB]));

    // Update: new redirect URIs and name; a bad URI changes nothing.
    let mut upd = public_client(&["https://partner.example/new"]);
    upd["client_id"] = a["client_id"].clone();
    upd["client_name"] = json!("Agent 2");
    let r = manage(
        &srv,
        reqwest::Method::PUT,
        uri,
        Some(token),
        Some(upd.clone()),
    );
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["redirect_uris"], json!(["https://partner.example/new"]));
    assert_eq!(v["client_name"], "Agent 2");
    let mut bad = upd.clone();
    bad["redirect_uris"] = json!(["http://evil.example/cb"]);
    let r = manage(&srv, reqwest::Method::PUT, uri, Some(token), Some(bad));
    assert_eq!(r.status(), 400);
    let v: Value = manage(&srv, reqwest::Method::GET, uri, Some(token), None)
        .json()
        .unwrap();
    assert_eq!(v["redirect_uris"], json!(["https://partner.example/new"]));

    let r = manage(&srv, reqwest::Method::DELETE, uri, Some(token), None);
    assert_eq!(r.status(), 204);
    let r = manage(&srv, reqwest::Method::GET, uri, Some(token), None);
    assert_eq!(r.status(), 401);
}

#[test]
fn registration_delete_stops_the_clients_tokens_s59() {
    let fx = fixture();
    let a = registered(&fx.srv, public_client(&[CB]));
    let id = a["client_id"].as_str().unwrap();
    let c = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(
        &fx,
        &c,
        &base(
            id,
            &[
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        ),
    );
    let r = answer(&fx, &c, &page, "allow", &[fx.eng.id.as_str()]);
    let code = code_of(&r);
    let r = exchange_pkce(&fx, id, &code, &[]);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    let access = t["access_token"].as_str().unwrap();
    let me = |tok: &str| {
        bare_client()
            .get(fx.srv.url("/v1/users/me"))
            .bearer_auth(tok)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(me(access), 200);
    let uri = a["registration_client_uri"].as_str().unwrap();
    let token = a["registration_access_token"].as_str().unwrap();
    assert_eq!(
        manage(&fx.srv, reqwest::Method::DELETE, uri, Some(token), None).status(),
        204
    );
    assert_eq!(me(access), 401);
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", id),
        ])
        .send()
        .unwrap();
    assert_ne!(r.status(), 200);
}

#[test]
fn registration_is_throttled_per_address_s60() {
    let srv = TestServer::start_with(|c| c.registration.max_per_ip_per_hour = 3);
    for _ in 0..3 {
        assert_eq!(register(&srv, public_client(&[CB])).status(), 201);
    }
    let r = register(&srv, public_client(&[CB]));
    assert_eq!(r.status(), 429);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 3600, "{wait}");
    assert_eq!(srv.count("integrations"), 3);
}

#[test]
fn registration_cannot_impersonate_a_first_party_integration_s60() {
    let fx = fixture();
    let mut body = public_client(&[CB]);
    body["client_name"] = json!("  github ");
    let r = register(&fx.srv, body);
    assert_eq!(r.status(), 400);
    let v: Value = r.json().unwrap();
    assert_eq!(v["error"], "invalid_client_metadata");
    // Nothing in the body makes a client first-party.
    let mut body = public_client(&[CB]);
    body["first_party"] = json!(true);
    let v = registered(&fx.srv, body);
    let first: bool = {
        use diesel::prelude::*;
        use pagegrant::db::schema::integrations::dsl as i;
        i::integrations
            .filter(i::client_id.eq(v["client_id"].as_str().unwrap()))
            .select(i::first_party)
            .first(&mut fx.srv.conn())
            .unwrap()
    };
    assert!(!first);
}

#[test]
fn unused_dynamic_clients_are_purged_s60() {
    let fx = fixture_with(|c| c.registration.unused_ttl_s = 1);
    let before = fx.srv.count("integrations");
    let old = registered(&fx.srv, public_client(&[CB]));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let _new = registered(&fx.srv, public_client(&[CB]));
    assert_eq!(fx.srv.count("integrations"), before + 1);
    let r = manage(
        &fx.srv,
        reqwest::Method::GET,
        old["registration_client_uri"].as_str().unwrap(),
        old["registration_access_token"].as_str(),
        None,
    );
    assert_eq!(r.status(), 401);
}

#[test]
fn metadata_advertises_registration_only_when_on_s2() {
    let srv = TestServer::start();
    let m: Value = bare_client()
        .get(srv.url("/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(m["registration_endpoint"], srv.url("/v1/oauth/register"));
    let scopes = m["scopes_supported"].as_array().unwrap();
    assert!(scopes.iter().any(|s| s == "offline_access"));
    // CIMD is on by default (tests/it/cimd.rs turns it off).
    assert_eq!(m["client_id_metadata_document_supported"], json!(true));
    assert_eq!(
        m["prompt_values_supported"],
        json!(["none", "login", "consent"])
    );

    let off = TestServer::start_with(|c| c.registration.dynamic = false);
    let m: Value = bare_client()
        .get(off.url("/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(m.get("registration_endpoint").is_none());
    assert_eq!(register(&off, public_client(&[CB])).status(), 404);
}

/// Registers a public client on `uri` and returns its client id.
fn dynamic_client(srv: &TestServer, uri: &str) -> String {
    registered(srv, public_client(&[uri]))["client_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn pkce<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn loopback_redirect_on_another_port_is_accepted_for_a_dynamic_client() {
    let fx = fixture();
    let id = dynamic_client(&fx.srv, "http://127.0.0.1:33418/callback");
    let c = logged_in(&fx.srv, "ada@example.com");
    let sent = "http://127.0.0.1:51234/callback";
    let page = consent_page(&fx, &c, &base(&id, &pkce(&[("redirect_uri", sent)])));
    let r = answer(&fx, &c, &page, "allow", &[fx.eng.id.as_str()]);
    assert!(
        location(&r).starts_with(&format!("{sent}?code=")),
        "{}",
        location(&r)
    );
    // Another host or path is still refused, with a page.
    for bad in [
        "http://127.0.0.1:51234/other",
        "http://localhost:51234/callback",
    ] {
        let r = c
            .get(crate::kit::authorize_url(
                &fx.srv,
                &base(&id, &pkce(&[("redirect_uri", bad)])),
            ))
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get("location").is_none());
    }
}

#[test]
fn every_dynamic_client_needs_pkce() {
    let fx = fixture();
    let mut body = public_client(&[CB]);
    body["token_endpoint_auth_method"] = json!("client_secret_basic");
    let v = registered(&fx.srv, body);
    let id = v["client_id"].as_str().unwrap();
    let c = logged_in(&fx.srv, "ada@example.com");
    let r = c
        .get(crate::kit::authorize_url(&fx.srv, &base(id, &[])))
        .send()
        .unwrap();
    // A self-registered client's errors are a page with a link back, never a redirect.
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let html = r.text().unwrap();
    assert!(html.contains("code_challenge"), "{html}");
    consent_page(&fx, &c, &base(id, &pkce(&[])));
}

#[test]
fn offline_access_and_prompt_consent_are_accepted() {
    let fx = fixture();
    let id = dynamic_client(&fx.srv, CB);
    let c = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(
        &fx,
        &c,
        &base(
            &id,
            &pkce(&[
                ("scope", "read_content offline_access"),
                ("prompt", "consent"),
            ]),
        ),
    );
    let r = answer(&fx, &c, &page, "allow", &[fx.eng.id.as_str()]);
    let code = code_of(&r);
    let r = exchange_pkce(&fx, &id, &code, &[]);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    assert!(t["refresh_token"].as_str().unwrap().starts_with("nrt_"));
    // offline_access is not a capability: the granted scope is the capability.
    let conf = &fx.conf.integration.client_id;
    let i: Value = bare_client()
        .post(fx.srv.url("/v1/oauth/introspect"))
        .basic_auth(conf, fx.conf.client_secret.as_deref())
        .form(&[("token", t["access_token"].as_str().unwrap())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(i["active"], false, "another client's token: {i}");
    // An unknown scope is still refused.
    let r = c
        .get(crate::kit::authorize_url(
            &fx.srv,
            &base(
                &fx.conf.integration.client_id,
                &[("scope", "offline_access delete_everything")],
            ),
        ))
        .send()
        .unwrap();
    assert_eq!(params(&location(&r))["error"], "invalid_scope");
}

#[test]
fn prompt_none_answers_login_or_consent_required() {
    let fx = fixture();
    let conf = fx.conf.integration.client_id.clone();
    let anon = client();
    let r = anon
        .get(crate::kit::authorize_url(
            &fx.srv,
            &base(&conf, &[("prompt", "none")]),
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let p = params(&location(&r));
    assert_eq!(p["error"], "login_required");
    assert_eq!(p["state"], "xyz");
    let c = logged_in(&fx.srv, "ada@example.com");
    let r = c
        .get(crate::kit::authorize_url(
            &fx.srv,
            &base(&conf, &[("prompt", "none")]),
        ))
        .send()
        .unwrap();
    assert_eq!(params(&location(&r))["error"], "consent_required");
    // A self-registered client gets a page with the link, not a redirect.
    let id = dynamic_client(&fx.srv, CB);
    let r = c
        .get(crate::kit::authorize_url(
            &fx.srv,
            &base(&id, &pkce(&[("prompt", "none")])),
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("consent_required"));
    // Unknown or contradictory values are invalid_request.
    for bad in ["select_account", "none login"] {
        let r = c
            .get(crate::kit::authorize_url(
                &fx.srv,
                &base(&conf, &[("prompt", bad)]),
            ))
            .send()
            .unwrap();
        assert_eq!(params(&location(&r))["error"], "invalid_request", "{bad}");
    }
}

#[test]
fn prompt_login_asks_for_the_password_again() {
    let fx = fixture();
    let conf = fx.conf.integration.client_id.clone();
    let c = logged_in(&fx.srv, "ada@example.com");
    let url = crate::kit::authorize_url(&fx.srv, &base(&conf, &[("prompt", "login")]));
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status(), 303);
    let to_login = location(&r);
    assert!(to_login.starts_with("/account/reauth?next="), "{to_login}");
    // Confirm it's you (issue 28: the same page as sensitive actions).
    let r = c.get(fx.srv.url(&to_login)).send().unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    let next = input_value(&page, "next").expect("next");
    // Without the password, the request keeps sending her back to log in.
    let r = c.get(fx.srv.url(&next)).send().unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/account/reauth?next="));
    // A forged marker does not help.
    let forged = next.replace("login_since=", "login_since=AAAA");
    let r = c.get(fx.srv.url(&forged)).send().unwrap();
    assert!(location(&r).starts_with("/account/reauth?next="));
    // Proofs are timed in seconds: confirm in a later one than the request.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = c
        .post(fx.srv.url("/account/reauth"))
        .form(&[
            ("csrf", input_value(&page, "csrf").expect("csrf")),
            ("password", PASSWORD.into()),
            ("next", next.clone()),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), next);
    let r = c.get(fx.srv.url(&next)).send().unwrap();
    assert_eq!(r.status(), 200, "the consent page after confirming");
    assert!(r.text().unwrap().contains("Allow access"));
}

// ---- RFC 8707 resource indicators (S63, the parts without /mcp).

fn aud_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    let v: Value = serde_json::from_slice(&raw).expect("claims");
    v["aud"].as_str().expect("aud").to_string()
}

/// A code for a new dynamic client, asking for `resources`.
fn code_for_resources(fx: &Fx, resources: &[&str]) -> (String, String) {
    let id = dynamic_client(&fx.srv, CB);
    let c = logged_in(&fx.srv, "ada@example.com");
    let mut extra: Vec<(&str, &str)> = pkce(&[]);
    for r in resources {
        extra.push(("resource", r));
    }
    let mut q = base(&id, &[]);
    q.extend(extra);
    let page = consent_page(fx, &c, &q);
    let r = answer(fx, &c, &page, "allow", &[fx.eng.id.as_str()]);
    let code = code_of(&r);
    (id, code)
}

fn token_call(fx: &Fx, form: &[(&str, &str)]) -> Response {
    bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .form(form)
        .send()
        .unwrap()
}

fn exchange_for(fx: &Fx, id: &str, code: &str, extra: &[(&str, &str)]) -> Response {
    exchange_pkce(fx, id, code, extra)
}

fn users_me(fx: &Fx, token: &str) -> Response {
    bare_client()
        .get(fx.srv.url("/v1/users/me"))
        .bearer_auth(token)
        .send()
        .unwrap()
}

#[test]
fn unknown_resource_is_invalid_target_s63() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let conf = fx.conf.integration.client_id.clone();
    for bad in [
        "https://evil.example/v1".to_string(),
        fx.srv.url("/v2"),
        format!("{}/", fx.srv.url("/v1")),
    ] {
        let r = c
            .get(crate::kit::authorize_url(
                &fx.srv,
                &base(&conf, &[("resource", &bad)]),
            ))
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "{bad}");
        assert_eq!(params(&location(&r))["error"], "invalid_target", "{bad}");
    }
    // At the token endpoint too.
    let (id, code) = code_for_resources(&fx, &[]);
    let r = exchange_for(&fx, &id, &code, &[("resource", "https://evil.example/v1")]);
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_target");
    // The refused redemption spent the code: one try per code, even when
    // the grant itself was never written.
    let again = exchange_for(&fx, &id, &code, &[]);
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<Value>().unwrap()["error"], "invalid_grant");
}

#[test]
fn token_audience_is_the_granted_resource_and_defaults_to_v1_s63() {
    let fx = fixture();
    let v1 = fx.srv.url("/v1");
    // No resource: today's audience, and the API answers.
    let (id, code) = code_for_resources(&fx, &[]);
    let t: Value = exchange_for(&fx, &id, &code, &[]).json().unwrap();
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(aud_of(access), v1);
    assert_eq!(users_me(&fx, access).status(), 200);
    // resource=/v1 explicitly: the same.
    let (id, code) = code_for_resources(&fx, &[&v1]);
    let t: Value = exchange_for(&fx, &id, &code, &[("resource", &v1)])
        .json()
        .unwrap();
    assert_eq!(aud_of(t["access_token"].as_str().unwrap()), v1);
    assert_eq!(
        users_me(&fx, t["access_token"].as_str().unwrap()).status(),
        200
    );
}

#[test]
fn v1_refuses_a_token_issued_for_mcp_s63() {
    let fx = fixture();
    let mcp = fx.srv.url("/mcp");
    let (id, code) = code_for_resources(&fx, &[&mcp]);
    let r = exchange_for(&fx, &id, &code, &[]);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(aud_of(access), mcp);
    let r = users_me(&fx, access);
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["code"], "unauthorized");
    // The grant lacks /v1: asking for it on refresh is invalid_target.
    let refresh = t["refresh_token"].as_str().unwrap();
    let v1 = fx.srv.url("/v1");
    let r = token_call(
        &fx,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &id),
            ("resource", &v1),
        ],
    );
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_target");
    // The refused refresh did not use the token up.
    let r = token_call(
        &fx,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &id),
        ],
    );
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    assert_eq!(aud_of(t["access_token"].as_str().unwrap()), mcp);
}

#[test]
fn refresh_narrows_to_one_of_the_grants_resources_s63() {
    let fx = fixture();
    let (v1, mcp) = (fx.srv.url("/v1"), fx.srv.url("/mcp"));
    let (id, code) = code_for_resources(&fx, &[&v1, &mcp]);
    let t: Value = exchange_for(&fx, &id, &code, &[]).json().unwrap();
    assert_eq!(aud_of(t["access_token"].as_str().unwrap()), v1);
    let refresh = |token: &str, resource: &str| -> Value {
        let r = token_call(
            &fx,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", &id),
                ("resource", resource),
            ],
        );
        assert_eq!(r.status(), 200, "{resource}");
        r.json().unwrap()
    };
    let narrowed = refresh(t["refresh_token"].as_str().unwrap(), &mcp);
    assert_eq!(aud_of(narrowed["access_token"].as_str().unwrap()), mcp);
    // The grant keeps both: the next refresh may ask for /v1 again.
    let back = refresh(narrowed["refresh_token"].as_str().unwrap(), &v1);
    assert_eq!(aud_of(back["access_token"].as_str().unwrap()), v1);
    assert_eq!(
        users_me(&fx, back["access_token"].as_str().unwrap()).status(),
        200
    );
}

// ---- RFC 9728 protected-resource metadata.

#[test]
fn protected_resource_metadata_names_this_issuer_for_v1_and_mcp() {
    let srv = TestServer::start();
    for r in ["v1", "mcp"] {
        let resp = bare_client()
            .get(srv.url(&format!("/.well-known/oauth-protected-resource/{r}")))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{r}");
        let m: Value = resp.json().unwrap();
        assert_eq!(m["resource"], srv.url(&format!("/{r}")));
        assert_eq!(m["authorization_servers"], json!([srv.base]));
        assert_eq!(m["bearer_methods_supported"], json!(["header"]));
        assert!(m["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("read_content")));
    }
}

#[test]
fn v1_401_names_the_protected_resource_metadata() {
    let srv = TestServer::start();
    let want = format!(
        r#"Bearer resource_metadata="{}""#,
        srv.url("/.well-known/oauth-protected-resource/v1")
    );
    // No token.
    let r = bare_client().get(srv.url("/v1/users/me")).send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], want.as_str());
    let body: Value = r.json().unwrap();
    assert_eq!(body["object"], "error");
    assert_eq!(body["code"], "unauthorized");
    // A bad token: the same, plus invalid_token.
    let r = bare_client()
        .post(srv.url("/v1/search"))
        .bearer_auth("garbage")
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        format!(r#"{want}, error="invalid_token""#).as_str()
    );
    // What it names is reachable and lists this issuer: how an MCP client
    // finds the authorization server from the API alone.
    let url = want.split('"').nth(1).unwrap().to_string();
    let m: Value = bare_client().get(&url).send().unwrap().json().unwrap();
    assert_eq!(m["authorization_servers"][0], srv.base);
    let meta: Value = bare_client()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            m["authorization_servers"][0].as_str().unwrap()
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(meta["registration_endpoint"], srv.url("/v1/oauth/register"));
}

#[test]
fn registered_metadata_is_escaped_on_the_consent_page_s58() {
    let fx = fixture();
    let mut body = public_client(&[CB]);
    body["client_name"] = json!("<script>alert(1)</script>");
    body["x_unknown"] = json!("<img src=x onerror=alert(2)>");
    let v = registered(&fx.srv, body);
    assert!(
        v.get("x_unknown").is_none(),
        "unknown fields are not echoed"
    );
    let id = v["client_id"].as_str().unwrap();
    let c = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(&fx, &c, &base(id, &pkce(&[])));
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("&#60;script&#62;alert(1)") || page.contains("&lt;script&gt;alert(1)"));
    assert!(!page.contains("onerror=alert(2)"));
}
