//! The token endpoint from the confidential partner's side: codes, their
//! exchange, refresh, introspection and revocation, and OAuth error shapes.

use reqwest::blocking::{Client, Response};
use serde_json::Value;

use super::consent::{answer, base, consent_page, params};
use super::server::{bare_client, location, TestServer};
use super::world::Fx;
use super::{CB, VERIFIER};

pub fn conf_id(fx: &Fx) -> String {
    fx.conf.integration.client_id.clone()
}
pub fn conf_secret(fx: &Fx) -> String {
    fx.conf.client_secret.clone().expect("secret")
}

/// A code for Ada in Acme, sharing Engineering, with the given extra authorize parameters.
pub fn code_with(fx: &Fx, c: &Client, client_id: &str, extra: &[(&str, &str)]) -> String {
    let page = consent_page(fx, c, &base(client_id, extra));
    let r = answer(fx, c, &page, "allow", &[fx.eng.id.as_str()]);
    params(&location(&r)).get("code").cloned().expect("code")
}

pub fn code(fx: &Fx, c: &Client) -> String {
    code_with(fx, c, &conf_id(fx), &[])
}

pub fn post_form(
    fx: &Fx,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Response {
    let mut r = bare_client().post(fx.srv.url(path)).form(form);
    if let Some((id, secret)) = basic {
        r = r.basic_auth(id, Some(secret));
    }
    r.send().expect("post")
}

pub fn post_json(fx: &Fx, path: &str, body: Value) -> Response {
    bare_client()
        .post(fx.srv.url(path))
        .json(&body)
        .send()
        .expect("post")
}

/// A Notion-API call with a bearer token and Notion's version header;
/// `method` is GET, PATCH, DELETE or (anything else) POST.
pub fn api_request(
    fx: &Fx,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let c = bare_client();
    let url = fx.srv.url(path);
    let req = match method {
        "GET" => c.get(url),
        "PATCH" => c.patch(url),
        "DELETE" => c.delete(url),
        _ => c.post(url),
    }
    .bearer_auth(token)
    .header("Notion-Version", "2025-09-03");
    match body {
        Some(b) => req.json(&b),
        None => req,
    }
    .send()
    .expect("api")
}

/// Exchanges a code with client_secret_basic.
pub fn exchange(fx: &Fx, code: &str) -> Response {
    post_form(
        fx,
        "/v1/oauth/token",
        Some((&conf_id(fx), &conf_secret(fx))),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
        ],
    )
}

/// A public client's code exchange (no secret) with RFC 7636's verifier and
/// the fixture's redirect URI, plus `extra` (a `resource`, say), which
/// replaces a default of the same name (another `redirect_uri`).
pub fn exchange_pkce(fx: &Fx, client_id: &str, code: &str, extra: &[(&str, &str)]) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
        ("client_id", client_id),
        ("code_verifier", VERIFIER),
    ];
    form.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    form.extend_from_slice(extra);
    post_form(fx, "/v1/oauth/token", None, &form)
}

pub fn tokens_for(fx: &Fx, c: &Client) -> Value {
    let r = exchange(fx, &code(fx, c));
    assert_eq!(r.status(), 200);
    r.json().expect("json")
}

pub fn refresh(fx: &Fx, token: &str) -> Response {
    post_form(
        fx,
        "/v1/oauth/token",
        Some((&conf_id(fx), &conf_secret(fx))),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
}

pub fn introspect(fx: &Fx, token: &str) -> Value {
    let r = post_form(
        fx,
        "/v1/oauth/introspect",
        Some((&conf_id(fx), &conf_secret(fx))),
        &[("token", token)],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().expect("json")
}

pub fn revoke(fx: &Fx, token: &str) -> Response {
    post_form(
        fx,
        "/v1/oauth/revoke",
        Some((&conf_id(fx), &conf_secret(fx))),
        &[("token", token)],
    )
}

pub fn me(fx: &Fx, access: &str) -> Response {
    bare_client()
        .get(fx.srv.url("/v1/users/me"))
        .bearer_auth(access)
        .send()
        .expect("me")
}

/// `/v1/users/me` with `token`: its status.
pub fn me_status(fx: &Fx, token: &str) -> u16 {
    me(fx, token).status().as_u16()
}

pub fn err_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().expect("json error"))
}

pub fn assert_oauth_error(r: Response, status: u16, error: &str, what: &str) -> Value {
    assert_eq!(
        r.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("no-store"),
        "{what}"
    );
    let (s, v) = err_of(r);
    assert_eq!(s, status, "{what}: {v}");
    assert_eq!(v["error"], error, "{what}: {v}");
    // Both shapes (DESIGN §4, S37).
    assert_eq!(v["object"], "error");
    assert_eq!(v["status"], status);
    assert_eq!(v["code"], error);
    assert!(v["message"].is_string() && v["request_id"].is_string());
    let d = v["error_description"].as_str().expect("description");
    assert!(!d.contains(['"', '\\', '\r', '\n']), "{what}: {d}");
    v
}

/// The server's newest signing key (the one that signs now): its `kid` and
/// PKCS#8 PEM, read the way the server reads it, from the database, opened
/// with the master key in the data directory.
pub fn server_signing_key(srv: &TestServer) -> (String, String) {
    let master = pagegrant::crypto::SecretBox::master(
        &pagegrant::oauth::keys::master_key_path(&srv.config),
        false,
    )
    .expect("master key");
    let (kid, sealed, _) = pagegrant::db::queries::keys::signing_keys(&mut srv.conn())
        .expect("signing keys")
        .pop()
        .expect("a signing key");
    (kid, master.decrypt(&sealed).expect("opens"))
}

/// A JWS compact serialisation of `payload` under any `header`, signed with
/// ES256 by the P-256 key `pem` as the server signs (r || s, low S): its
/// signature is valid whatever the header claims.
pub fn sign_es256(pem: &str, header: &Value, payload: &[u8]) -> String {
    use base64::Engine;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).expect("a P-256 key");
    let signed = format!("{}.{}", b64.encode(header.to_string()), b64.encode(payload));
    let sig: p256::ecdsa::Signature = key.sign(signed.as_bytes());
    let sig = sig.normalize_s().unwrap_or(sig);
    format!("{signed}.{}", b64.encode(sig.to_bytes()))
}

/// The payload (claims) of a compact JWS, decoded.
pub fn payload_of(jws: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jws.split('.').nth(1).expect("a payload"))
        .expect("base64url")
}
