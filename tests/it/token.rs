//! Token endpoint, JWTs, refresh rotation, introspection, revocation and
//! discovery (SECURITY S1, S2, S18–S44, S55), over HTTP.

use std::collections::HashSet;

use crate::kit::*;
use base64::Engine;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

#[test]
fn metadata_names_the_issuer_and_only_what_is_enforced_s1_s2() {
    let fx = fixture();
    let v: Value = bare_client()
        .get(fx.srv.url("/.well-known/oauth-authorization-server"))
        .send()
        .expect("get")
        .json()
        .expect("json");
    let iss = &fx.srv.config.server.issuer;
    assert_eq!(v["issuer"], iss.as_str());
    for k in [
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ] {
        assert!(
            v[k].as_str().expect(k).starts_with(&format!("{iss}/")),
            "{k} absolute"
        );
    }
    assert_eq!(v["response_types_supported"], json!(["code"]));
    assert_eq!(
        v["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(v["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        v["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(v["authorization_response_iss_parameter_supported"], true);
    assert!(v["scopes_supported"]
        .as_array()
        .expect("scopes")
        .contains(&json!("read_content")));
}

#[test]
fn code_exchange_returns_the_notion_token_response_s25() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let r = exchange(&fx, &code(&fx, &a));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    let v: Value = r.json().expect("json");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(v["refresh_token"]
        .as_str()
        .expect("refresh")
        .starts_with("nrt_"));
    assert_eq!(v["workspace_id"], fx.acme.id.as_str());
    assert_eq!(v["workspace_name"], "Acme Corp");
    assert!(v.get("workspace_icon").is_some());
    assert!(v["bot_id"].is_string());
    assert_eq!(v["owner"]["type"], "user");
    let u = &v["owner"]["user"];
    assert_eq!(u["object"], "user");
    assert_eq!(u["id"], fx.ada.id.as_str());
    assert_eq!(u["type"], "person");
    assert_eq!(u["person"]["email"], "ada@example.com");
    assert!(v["duplicated_template_id"].is_null());
    assert!(v["request_id"].is_string());
}

#[test]
fn jwt_access_token_verifies_with_the_jwks_s43() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let at = v["access_token"].as_str().expect("at");
    let header = jsonwebtoken::decode_header(at).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwks: Value = bare_client()
        .get(fx.srv.url("/.well-known/jwks.json"))
        .send()
        .expect("jwks")
        .json()
        .expect("json");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("kid in JWKS");
    let dk = jsonwebtoken::DecodingKey::from_ec_components(
        key["x"].as_str().expect("x"),
        key["y"].as_str().expect("y"),
    )
    .expect("key");
    let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    val.set_audience(&[format!("{}/v1", fx.srv.config.server.issuer)]);
    let claims: Value = jsonwebtoken::decode(at, &dk, &val)
        .expect("signature verifies")
        .claims;
    assert_eq!(claims["iss"], fx.srv.config.server.issuer.as_str());
    assert_eq!(claims["sub"], v["bot_id"]);
    assert_eq!(claims["client_id"], conf_id(&fx).as_str());
    assert_eq!(claims["workspace_id"], fx.acme.id.as_str());
    for k in ["aud", "exp", "iat", "jti"] {
        assert!(claims.get(k).is_some(), "{k}");
    }
    let other = tokens_for(&fx, &a);
    let other_claims: Value =
        jsonwebtoken::decode(other["access_token"].as_str().expect("at"), &dk, &val)
            .expect("v")
            .claims;
    assert_ne!(claims["jti"], other_claims["jti"], "jti unique");
}

#[test]
fn forged_and_expired_tokens_are_refused_by_the_api_s44() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let at = v["access_token"].as_str().expect("at");
    assert_eq!(me(&fx, at).status(), 200);
    let parts: Vec<&str> = at.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value =
        serde_json::from_slice(&b64.decode(parts[1]).expect("b64")).expect("json");
    let issuer = fx.srv.config.server.issuer.clone();
    // Another key with the same claims.
    let other = pagegrant::oauth::jwt::Keys::ephemeral(&issuer).expect("keys");
    let claims: pagegrant::oauth::jwt::Claims =
        serde_json::from_value(payload.clone()).expect("claims");
    let forged = other.sign_now(&claims).expect("sign");
    // alg none.
    let none_header = b64.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let none = format!("{none_header}.{}.", parts[1]);
    // HS256 keyed with the public JWK.
    let jwks: Value = bare_client()
        .get(fx.srv.url("/.well-known/jwks.json"))
        .send()
        .expect("jwks")
        .json()
        .expect("json");
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.typ = Some("at+jwt".into());
    hs.kid = jwks["keys"][0]["kid"].as_str().map(String::from);
    let hs_token = jsonwebtoken::encode(
        &hs,
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(jwks["keys"][0].to_string().as_bytes()),
    )
    .expect("hs");
    // A tampered claim with the original signature.
    payload["workspace_id"] = json!(fx.notebook.id.as_str());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    // Expired, signed with the server's own key.
    let (_, own) =
        pagegrant::oauth::keys::load(&mut fx.srv.conn(), &fx.srv.config).expect("own key");
    let mut old = claims.clone();
    old.iat -= 7200;
    old.exp -= 7200;
    let expired = own.sign_now(&old).expect("sign");
    for (what, t) in [
        ("other key", forged.as_str()),
        ("alg none", none.as_str()),
        ("HS256", hs_token.as_str()),
        ("tampered", tampered.as_str()),
        ("expired", expired.as_str()),
        ("garbage", "abc.def.ghi"),
    ] {
        let r = me(&fx, t);
        assert_eq!(r.status(), 401, "{what}");
        let v: Value = r.json().expect("json");
        assert_eq!(v["code"], "unauthorized", "{what}");
    }
    assert_eq!(
        bare_client()
            .get(fx.srv.url("/v1/users/me"))
            .send()
            .expect("me")
            .status(),
        401,
        "no token"
    );
}

/// The header checks on their own: tokens signed with the server's own key
/// over the server's own claims, so only the header's `alg` or `typ` is
/// wrong, are refused by the API and read as inactive at introspection
/// (S44). Every other check passes for them, so this fails if verification
/// stops looking at the header.
#[test]
fn validly_signed_tokens_with_a_foreign_header_are_refused_s44() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let at = v["access_token"].as_str().expect("at");
    let payload = payload_of(at);
    let (kid, pem) = server_signing_key(&fx.srv);
    assert_eq!(
        jsonwebtoken::decode_header(at)
            .expect("header")
            .kid
            .as_deref(),
        Some(kid.as_str()),
        "the key that signs now"
    );
    // The control: our signer with the server's header is a good token.
    let good = sign_es256(
        &pem,
        &json!({"alg": "ES256", "typ": "at+jwt", "kid": kid}),
        &payload,
    );
    assert_ne!(good, at, "signed here, not by the server");
    assert_eq!(me(&fx, &good).status(), 200, "control: the API accepts it");
    let live = introspect(&fx, &good);
    assert_eq!(live["active"], true, "control: {live}");
    for (what, header) in [
        ("typ JWT", json!({"alg": "ES256", "typ": "JWT", "kid": kid})),
        ("no typ", json!({"alg": "ES256", "kid": kid})),
        (
            "alg ES384",
            json!({"alg": "ES384", "typ": "at+jwt", "kid": kid}),
        ),
        (
            "alg es256",
            json!({"alg": "es256", "typ": "at+jwt", "kid": kid}),
        ),
        (
            "alg none",
            json!({"alg": "none", "typ": "at+jwt", "kid": kid}),
        ),
        (
            "alg HS256",
            json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
        ),
    ] {
        let t = sign_es256(&pem, &header, &payload);
        let r = me(&fx, &t);
        assert_eq!(r.status(), 401, "{what}");
        let body: Value = r.json().expect("json");
        assert_eq!(body["code"], "unauthorized", "{what}");
        assert_eq!(
            introspect(&fx, &t),
            json!({"active": false}),
            "{what}: inactive"
        );
    }
    // The original still works: nothing above was a revocation.
    assert_eq!(me(&fx, at).status(), 200);
}

#[test]
fn users_me_returns_the_bot_user() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let r = me(&fx, v["access_token"].as_str().expect("at"));
    assert!(r.headers().get("x-notion-request-id").is_some());
    let u: Value = r.json().expect("json");
    assert_eq!(u["object"], "user");
    assert_eq!(u["type"], "bot");
    assert_eq!(u["id"], v["bot_id"]);
    assert_eq!(u["name"], "Partner <b>App</b>");
    assert_eq!(u["bot"]["owner"]["type"], "user");
    assert_eq!(u["bot"]["owner"]["user"]["id"], fx.ada.id.as_str());
    assert_eq!(u["bot"]["workspace_name"], "Acme Corp");
}

#[test]
fn client_auth_basic_with_form_encoded_credentials_s20() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    // RFC 6749 §2.3.1: each half is form-encoded before base64; encoding
    // unreserved characters must still decode to the same credentials.
    let enc = |s: &str| s.replace('-', "%2D").replace('_', "%5F");
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(&conf_id(&fx)),
            enc(&conf_secret(&fx))
        ))
    );
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .header("Authorization", header)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code(&fx, &a).as_str()),
            ("redirect_uri", CB),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 200);
}

#[test]
fn client_auth_in_the_body_form_and_json_s21() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code(&fx, &a)),
            ("redirect_uri", CB),
            ("client_id", &conf_id(&fx)),
            ("client_secret", &conf_secret(&fx)),
        ],
    );
    assert_eq!(r.status(), 200);
    let r = post_json(
        &fx,
        "/v1/oauth/token",
        json!({"grant_type": "authorization_code", "code": code(&fx, &a), "redirect_uri": CB, "client_id": conf_id(&fx), "client_secret": conf_secret(&fx)}),
    );
    assert_eq!(r.status(), 200);
    // JSON with HTTP Basic, as the Notion SDKs send it.
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(conf_id(&fx), Some(conf_secret(&fx)))
        .json(
            &json!({"grant_type": "authorization_code", "code": code(&fx, &a), "redirect_uri": CB}),
        )
        .send()
        .expect("post");
    assert_eq!(r.status(), 200);
}

#[test]
fn wrong_secret_and_unknown_client_read_the_same_s22() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", CB),
    ];
    let wrong = post_form(
        &fx,
        "/v1/oauth/token",
        Some((&conf_id(&fx), "wrong-secret")),
        &form,
    );
    assert!(wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap_or_default()
        .starts_with("Basic"));
    let mut w = assert_oauth_error(wrong, 401, "invalid_client", "wrong secret");
    let unknown = post_form(
        &fx,
        "/v1/oauth/token",
        Some(("no-such-client", "wrong-secret")),
        &form,
    );
    assert!(unknown.headers().get("www-authenticate").is_some());
    let mut u = assert_oauth_error(unknown, 401, "invalid_client", "unknown client");
    w["request_id"] = json!(null);
    u["request_id"] = json!(null);
    assert_eq!(w, u, "indistinguishable");
    // In the body: 401 without WWW-Authenticate.
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("client_id", &conf_id(&fx)),
            ("client_secret", "nope"),
        ],
    );
    assert!(r.headers().get("www-authenticate").is_none());
    assert_oauth_error(r, 401, "invalid_client", "post");
    // The code survived all of that.
    assert_eq!(exchange(&fx, &c).status(), 200);
}

#[test]
fn client_type_rules_and_mixed_methods_s23() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", CB),
    ];
    // Confidential without secret.
    let mut form = grant.to_vec();
    form.push(("client_id", &fx.conf.integration.client_id));
    assert_oauth_error(
        post_form(&fx, "/v1/oauth/token", None, &form),
        401,
        "invalid_client",
        "no secret",
    );
    // Basic plus a body secret.
    let mut form = grant.to_vec();
    let secret = conf_secret(&fx);
    form.push(("client_secret", &secret));
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            Some((&conf_id(&fx), &secret)),
            &form,
        ),
        400,
        "invalid_request",
        "basic + body secret",
    );
    // A different body client_id beside Basic.
    let mut form = grant.to_vec();
    let other_id = fx.multi.integration.client_id.clone();
    form.push(("client_id", &other_id));
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            Some((&conf_id(&fx), &secret)),
            &form,
        ),
        400,
        "invalid_request",
        "basic + other id",
    );
    // The same body client_id beside Basic is fine.
    let mut form = grant.to_vec();
    let id = conf_id(&fx);
    form.push(("client_id", &id));
    assert_eq!(
        post_form(&fx, "/v1/oauth/token", Some((&id, &secret)), &form).status(),
        200
    );
    // A public client sending a secret.
    let pub_id = fx.public.integration.client_id.clone();
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nrt_x"),
            ("client_id", &pub_id),
            ("client_secret", "made-up"),
        ],
    );
    assert_oauth_error(r, 401, "invalid_client", "public with secret");
}

#[test]
fn query_string_credentials_and_get_are_refused_s24() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let url = fx.srv.url(&format!(
        "/v1/oauth/token?client_id={}&client_secret={}",
        conf_id(&fx),
        conf_secret(&fx)
    ));
    let r = bare_client()
        .post(url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", c.as_str()),
            ("redirect_uri", CB),
        ])
        .send()
        .expect("post");
    assert_oauth_error(r, 400, "invalid_request", "query credentials");
    for path in [
        "/v1/oauth/token",
        "/v1/oauth/introspect",
        "/v1/oauth/revoke",
    ] {
        let r = bare_client().get(fx.srv.url(path)).send().expect("get");
        assert_eq!(r.status(), 405, "{path}");
    }
}

#[test]
fn code_bound_to_client_s26() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let multi_secret = fx.multi.client_secret.clone().expect("secret");
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        Some((&fx.multi.integration.client_id, &multi_secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", CB),
        ],
    );
    assert_oauth_error(r, 400, "invalid_grant", "other client");
    assert_eq!(
        exchange(&fx, &c).status(),
        200,
        "still usable by its own client"
    );
}

#[test]
fn code_bound_to_redirect_uri_s27() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let auth = Some((conf_id(&fx), conf_secret(&fx)));
    let auth = auth.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", "https://partner.example/cb2"),
        ],
    );
    assert_oauth_error(r, 400, "invalid_grant", "other redirect");
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        auth,
        &[("grant_type", "authorization_code"), ("code", &c)],
    );
    assert_oauth_error(r, 400, "invalid_grant", "omitted though sent");
    assert_eq!(exchange(&fx, &c).status(), 200);
    // Omitted at authorize: may be omitted at the token endpoint.
    let cid = conf_id(&fx);
    let mut p = base(&cid, &[]);
    p.retain(|(k, _)| *k != "redirect_uri");
    let page = consent_page(&fx, &a, &p);
    let c2 = params(&location(&answer(&fx, &a, &page, "allow", &[])))
        .get("code")
        .cloned()
        .expect("code");
    assert_eq!(
        post_form(
            &fx,
            "/v1/oauth/token",
            auth,
            &[("grant_type", "authorization_code"), ("code", &c2)]
        )
        .status(),
        200
    );
}

#[test]
fn code_is_single_use_even_in_parallel_s28() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..5)
            .map(|_| s.spawn(|| exchange(&fx, &c).status().as_u16()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
    assert_oauth_error(exchange(&fx, &c), 400, "invalid_grant", "second redemption");
}

#[test]
fn replay_kills_the_first_redemptions_tokens_s29() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let v: Value = exchange(&fx, &c).json().expect("json");
    let (at, rt) = (
        v["access_token"].as_str().expect("at"),
        v["refresh_token"].as_str().expect("rt"),
    );
    assert_eq!(me(&fx, at).status(), 200);
    assert_oauth_error(exchange(&fx, &c), 400, "invalid_grant", "replay");
    assert_eq!(introspect(&fx, at), json!({"active": false}));
    assert_eq!(introspect(&fx, rt), json!({"active": false}));
    assert_oauth_error(
        refresh(&fx, rt),
        400,
        "invalid_grant",
        "refresh after replay",
    );
    assert_eq!(me(&fx, at).status(), 401);
}

#[test]
fn replay_with_wrong_secret_or_verifier_changes_nothing_s30() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code_with(
        &fx,
        &a,
        &conf_id(&fx),
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let ok = post_form(
        &fx,
        "/v1/oauth/token",
        Some((&conf_id(&fx), &conf_secret(&fx))),
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    );
    let v: Value = ok.json().expect("json");
    let at = v["access_token"].as_str().expect("at");
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        Some((&conf_id(&fx), "wrong")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(r.status(), 401);
    let wrong_verifier = "x".repeat(43);
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        Some((&conf_id(&fx), &conf_secret(&fx))),
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", CB),
            ("code_verifier", &wrong_verifier),
        ],
    );
    assert_oauth_error(r, 400, "invalid_grant", "wrong verifier");
    assert_eq!(introspect(&fx, at)["active"], true);
    assert_eq!(me(&fx, at).status(), 200);
}

/// A server with config tweaks, one user, one workspace, one confidential
/// client, and a logged-in browser: for the checks that need a short TTL or
/// a grace window.
struct Mini {
    srv: TestServer,
    id: String,
    secret: String,
    browser: Client,
}

impl Mini {
    fn start(tweak: impl FnOnce(&mut pagegrant::config::Config)) -> Mini {
        let srv = TestServer::start_with(tweak);
        let ada = srv.user("ada@example.com", "Ada");
        srv.workspace("Acme", &ada, pagegrant::db::models::Plan::Free);
        let created = pagegrant::domain::integrations::register(
            &mut srv.conn(),
            &srv.sbox,
            pagegrant::domain::integrations::NewIntegration {
                name: "P".into(),
                redirect_uris: vec![CB.into()],
                ..Default::default()
            },
        )
        .expect("register");
        let browser = logged_in(&srv, "ada@example.com");
        Mini {
            id: created.integration.client_id.clone(),
            secret: created.client_secret.clone().expect("secret"),
            srv,
            browser,
        }
    }

    fn code(&self) -> String {
        let url = format!(
            "{}/v1/oauth/authorize?client_id={}&response_type=code",
            self.srv.base, self.id
        );
        let page = self
            .browser
            .get(url)
            .send()
            .expect("get")
            .text()
            .expect("body");
        let form = [
            ("request_id", input_value(&page, "request_id").expect("id")),
            ("csrf", input_value(&page, "csrf").expect("csrf")),
            ("decision", "allow".into()),
        ];
        let r = self
            .browser
            .post(self.srv.url("/v1/oauth/authorize"))
            .form(&form)
            .send()
            .expect("post");
        code_of(&r)
    }

    fn token(&self, form: &[(&str, &str)]) -> Response {
        bare_client()
            .post(self.srv.url("/v1/oauth/token"))
            .basic_auth(&self.id, Some(&self.secret))
            .form(form)
            .send()
            .expect("post")
    }
}

#[test]
fn expired_code_is_invalid_grant_s31() {
    let m = Mini::start(|c| c.tokens.code_ttl_s = 1);
    let c = m.code();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_oauth_error(
        m.token(&[("grant_type", "authorization_code"), ("code", &c)]),
        400,
        "invalid_grant",
        "expired code",
    );
}

#[test]
fn garbage_and_missing_fields_never_5xx_s32() {
    let fx = fixture();
    let auth = (conf_id(&fx), conf_secret(&fx));
    let auth = Some((auth.0.as_str(), auth.1.as_str()));
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            auth,
            &[
                ("grant_type", "authorization_code"),
                ("code", "garbage"),
                ("redirect_uri", CB),
            ],
        ),
        400,
        "invalid_grant",
        "garbage code",
    );
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            auth,
            &[("grant_type", "authorization_code")],
        ),
        400,
        "invalid_request",
        "missing code",
    );
    assert_oauth_error(
        post_form(&fx, "/v1/oauth/token", auth, &[("code", "x")]),
        400,
        "invalid_request",
        "missing grant_type",
    );
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            auth,
            &[
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ],
        ),
        400,
        "unsupported_grant_type",
        "password",
    );
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            auth,
            &[("grant_type", "client_credentials")],
        ),
        400,
        "unsupported_grant_type",
        "unknown",
    );
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/token",
            auth,
            &[("grant_type", "refresh_token")],
        ),
        400,
        "invalid_request",
        "missing refresh_token",
    );
    let weird: Vec<(String, Vec<u8>)> = vec![
        ("application/json".into(), b"{not json".to_vec()),
        ("application/json".into(), b"[1,2]".to_vec()),
        (
            "application/json".into(),
            br#"{"grant_type":{"x":1}}"#.to_vec(),
        ),
        (
            "application/x-www-form-urlencoded".into(),
            vec![0xff, 0xfe, b'=', b'%'],
        ),
        (
            "text/plain".into(),
            b"grant_type=authorization_code".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded".into(),
            b"grant_type=refresh_token&refresh_token=a&refresh_token=b".to_vec(),
        ),
    ];
    for (ctype, body) in weird {
        let r = bare_client()
            .post(fx.srv.url("/v1/oauth/token"))
            .basic_auth(conf_id(&fx), Some(conf_secret(&fx)))
            .header("content-type", ctype.clone())
            .body(body)
            .send()
            .expect("post");
        assert_eq!(r.status(), 400, "{ctype}");
    }
}

#[test]
fn pkce_verifier_checks_s18() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code_with(
        &fx,
        &a,
        &conf_id(&fx),
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let auth = (conf_id(&fx), conf_secret(&fx));
    let auth = Some((auth.0.as_str(), auth.1.as_str()));
    let short = &VERIFIER[..42];
    for (what, verifier) in [
        ("none", None),
        ("wrong", Some("y".repeat(50))),
        ("the challenge itself", Some(CHALLENGE.to_string())),
        ("42 characters", Some(short.to_string())),
    ] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", c.as_str()),
            ("redirect_uri", CB),
        ];
        if let Some(v) = &verifier {
            form.push(("code_verifier", v.as_str()));
        }
        assert_oauth_error(
            post_form(&fx, "/v1/oauth/token", auth, &form),
            400,
            "invalid_grant",
            what,
        );
    }
    assert_eq!(fx.srv.count("token_families"), 0, "nothing issued");
    assert_eq!(fx.srv.count("refresh_tokens"), 0, "nothing issued");
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(r.status(), 200);
    // A public client: PKCE with client_id alone.
    let pub_id = fx.public.integration.client_id.clone();
    let lo = "http://127.0.0.1:7000/cb";
    let c = code_with(
        &fx,
        &a,
        &pub_id,
        &[
            ("redirect_uri", lo),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", lo),
            ("client_id", &pub_id),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(r.status(), 200);
}

#[test]
fn verifier_without_challenge_is_refused_s19() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let c = code(&fx, &a);
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        Some((&conf_id(&fx), &conf_secret(&fx))),
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_oauth_error(r, 400, "invalid_grant", "verifier without challenge");
}

#[test]
fn refresh_rotates_s33() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let rt = v["refresh_token"].as_str().expect("rt");
    let r = refresh(&fx, rt);
    assert_eq!(r.status(), 200);
    let n: Value = r.json().expect("json");
    assert_ne!(n["refresh_token"], v["refresh_token"]);
    assert_ne!(n["access_token"], v["access_token"]);
    assert_eq!(n["bot_id"], v["bot_id"]);
    assert_eq!(
        introspect(&fx, rt),
        json!({"active": false}),
        "the old one is consumed"
    );
    assert_eq!(
        me(&fx, n["access_token"].as_str().expect("at")).status(),
        200
    );
    // JSON body works too.
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(conf_id(&fx), Some(conf_secret(&fx)))
        .json(&json!({"grant_type": "refresh_token", "refresh_token": n["refresh_token"]}))
        .send()
        .expect("post");
    assert_eq!(r.status(), 200);
}

#[test]
fn refresh_reuse_revokes_the_family_s34() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let rt = v["refresh_token"].as_str().expect("rt").to_string();
    let n: Value = refresh(&fx, &rt).json().expect("json");
    assert_oauth_error(refresh(&fx, &rt), 400, "invalid_grant", "reuse");
    assert_eq!(
        introspect(&fx, n["refresh_token"].as_str().expect("rt")),
        json!({"active": false})
    );
    assert_eq!(
        me(&fx, n["access_token"].as_str().expect("at")).status(),
        401
    );
    assert_oauth_error(
        refresh(&fx, n["refresh_token"].as_str().expect("rt")),
        400,
        "invalid_grant",
        "successor dead",
    );
    // Another family of the same connection is untouched.
    let other = tokens_for(&fx, &a);
    assert_eq!(
        me(&fx, other["access_token"].as_str().expect("at")).status(),
        200
    );
    // Two parallel refreshes with one token: at most one 200.
    let rt2 = other["refresh_token"].as_str().expect("rt").to_string();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| s.spawn(|| refresh(&fx, &rt2).status().as_u16()))
            .collect();
        hs.into_iter().map(|h| h.join().expect("join")).collect()
    });
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
}

/// S108: a refresh token names its family (`nrt_<family>.<secret>`), and
/// the name is only a key, never a credential: a token whose family part
/// was changed (to another live family of the same client, or to nonsense)
/// is `invalid_grant`, is not a reuse of either family, and changes
/// nothing; introspection and revocation treat it as unknown.
#[test]
fn a_refresh_token_under_another_family_is_unknown_s108() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let mine = tokens_for(&fx, &a);
    let other = tokens_for(&fx, &a);
    let rt = mine["refresh_token"].as_str().expect("rt").to_string();
    let rt_other = other["refresh_token"].as_str().expect("rt").to_string();
    let split = |t: &str| {
        let (family, secret) = t[4..].split_once('.').expect("nrt_<family>.<secret>");
        (family.to_string(), secret.to_string())
    };
    let (family, secret) = split(&rt);
    let (family_other, _) = split(&rt_other);
    assert_ne!(family, family_other, "one family per authorization");
    let forged = [
        format!("nrt_{family_other}.{secret}"),
        format!("nrt_{}.{secret}", uuid::Uuid::now_v7()),
        format!("nrt_x.{secret}"),
        format!("nrt_.{secret}"),
        format!("nrt_{family}."),
        format!("nrt_{family}.{secret}."),
        format!("nrt_{secret}"),
    ];
    for f in &forged {
        assert_oauth_error(refresh(&fx, f), 400, "invalid_grant", f);
        assert_eq!(introspect(&fx, f), json!({"active": false}), "{f}");
        assert_eq!(revoke(&fx, f).status(), 200, "{f}");
    }
    // Both families are untouched: their tokens work and rotate.
    for (v, rt) in [(&mine, &rt), (&other, &rt_other)] {
        let at = v["access_token"].as_str().expect("at");
        assert_eq!(me(&fx, at).status(), 200);
        assert_eq!(introspect(&fx, rt)["active"], json!(true));
        let n: Value = refresh(&fx, rt).json().expect("json");
        assert_eq!(
            split(n["refresh_token"].as_str().expect("rt")).0,
            split(rt).0
        );
    }
}

#[test]
fn refresh_retry_inside_the_grace_window_s34() {
    let m = Mini::start(|c| c.tokens.refresh_reuse_grace_s = 30);
    let c = m.code();
    let v: Value = m
        .token(&[("grant_type", "authorization_code"), ("code", &c)])
        .json()
        .expect("json");
    let rt = v["refresh_token"].as_str().expect("rt");
    let first: Value = m
        .token(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .json()
        .expect("json");
    let retry = m.token(&[("grant_type", "refresh_token"), ("refresh_token", rt)]);
    assert_eq!(
        retry.status(),
        200,
        "a retry inside the window is not reuse"
    );
    let second: Value = retry.json().expect("json");
    assert_ne!(first["refresh_token"], second["refresh_token"]);
    // Both successors stay valid.
    for s in [&first, &second] {
        let r = m.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", s["refresh_token"].as_str().expect("rt")),
        ]);
        assert_eq!(r.status(), 200);
    }
}

#[test]
fn refresh_bound_to_client_s35() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let rt = v["refresh_token"].as_str().expect("rt");
    let r = post_form(
        &fx,
        "/v1/oauth/token",
        Some((
            &fx.multi.integration.client_id,
            fx.multi.client_secret.as_deref().expect("s"),
        )),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    );
    assert_oauth_error(r, 400, "invalid_grant", "other client");
    assert_eq!(
        refresh(&fx, rt).status(),
        200,
        "untouched for its own client"
    );
}

#[test]
fn revoked_or_expired_refresh_is_invalid_grant_s36() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let rt = v["refresh_token"].as_str().expect("rt");
    assert_eq!(revoke(&fx, rt).status(), 200);
    assert_oauth_error(refresh(&fx, rt), 400, "invalid_grant", "revoked");
    assert_oauth_error(refresh(&fx, "nrt_made_up"), 400, "invalid_grant", "unknown");
    // Expired: a server with one-second refresh tokens.
    let m = Mini::start(|c| c.tokens.refresh_ttl_s = 1);
    let c = m.code();
    let v: Value = m
        .token(&[("grant_type", "authorization_code"), ("code", &c)])
        .json()
        .expect("json");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = m.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", v["refresh_token"].as_str().expect("rt")),
    ]);
    assert_oauth_error(r, 400, "invalid_grant", "expired");
}

#[test]
fn errors_are_clean_json_s37() {
    let fx = fixture();
    for (form, status) in [
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "\"\\\r\n<script>"),
            ],
            400,
        ),
        (vec![("grant_type", "x\"y")], 400),
    ] {
        let r = post_form(
            &fx,
            "/v1/oauth/token",
            Some((&conf_id(&fx), &conf_secret(&fx))),
            &form,
        );
        let v = err_of(r).1;
        assert_eq!(v["status"], status);
        let d = v["error_description"].as_str().expect("d");
        assert!(!d.contains(['"', '\\', '\r', '\n']));
        assert!(!d.to_lowercase().contains("diesel") && !d.contains("sqlite"));
    }
}

#[test]
fn revoking_ends_the_connection_s38() {
    for which in ["refresh_token", "access_token"] {
        let fx = fixture();
        let a = logged_in(&fx.srv, "ada@example.com");
        let v = tokens_for(&fx, &a);
        let other_family = tokens_for(&fx, &a);
        let (at, rt) = (
            v["access_token"].as_str().expect("at"),
            v["refresh_token"].as_str().expect("rt"),
        );
        let r = revoke(&fx, if which == "refresh_token" { rt } else { at });
        assert_eq!(r.status(), 200, "{which}");
        assert_eq!(r.json::<Value>().expect("json"), json!({}));
        assert_eq!(introspect(&fx, at), json!({"active": false}), "{which}");
        assert_eq!(introspect(&fx, rt), json!({"active": false}));
        assert_oauth_error(refresh(&fx, rt), 400, "invalid_grant", which);
        assert_eq!(me(&fx, at).status(), 401);
        // Every family of the connection is gone.
        assert_eq!(
            me(&fx, other_family["access_token"].as_str().expect("at")).status(),
            401
        );
        let conn = pagegrant::db::queries::connections::find_installed(
            &mut fx.srv.conn(),
            &fx.conf.integration.id,
            &fx.acme.id,
            &fx.ada.id,
        )
        .expect("q")
        .expect("connection");
        assert_eq!(conn.status.as_str(), "revoked");
        let events = pagegrant::db::queries::audit::for_workspace(&mut fx.srv.conn(), &fx.acme.id)
            .expect("audit");
        assert!(events.iter().any(|e| e.action == "connection.revoked"));
        // Re-consent re-activates it with the same bot.
        let again = tokens_for(&fx, &a);
        assert_eq!(again["bot_id"], v["bot_id"]);
        assert_eq!(
            me(&fx, again["access_token"].as_str().expect("at")).status(),
            200
        );
    }
}

#[test]
fn revoke_edge_cases_s39() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let rt = v["refresh_token"].as_str().expect("rt");
    for t in ["nrt_unknown", "garbage", "a.b.c"] {
        assert_eq!(revoke(&fx, t).status(), 200, "{t}");
    }
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/revoke",
            Some((&conf_id(&fx), &conf_secret(&fx))),
            &[],
        ),
        400,
        "invalid_request",
        "missing token",
    );
    assert_oauth_error(
        post_form(
            &fx,
            "/v1/oauth/revoke",
            Some((&conf_id(&fx), "wrong")),
            &[("token", rt)],
        ),
        401,
        "invalid_client",
        "bad creds",
    );
    // Another client cannot revoke it.
    let r = post_form(
        &fx,
        "/v1/oauth/revoke",
        Some((
            &fx.multi.integration.client_id,
            fx.multi.client_secret.as_deref().expect("s"),
        )),
        &[("token", rt)],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        introspect(&fx, rt)["active"],
        true,
        "not revoked by another client"
    );
    assert_eq!(revoke(&fx, rt).status(), 200);
    assert_eq!(revoke(&fx, rt).status(), 200, "already revoked");
    // JSON bodies, as the Notion SDKs send them.
    let v = tokens_for(&fx, &a);
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/revoke"))
        .basic_auth(conf_id(&fx), Some(conf_secret(&fx)))
        .json(&json!({"token": v["access_token"]}))
        .send()
        .expect("post");
    assert_eq!(r.status(), 200);
    assert_eq!(
        me(&fx, v["access_token"].as_str().expect("at")).status(),
        401
    );
}

#[test]
fn introspection_requires_client_auth_s40() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let at = v["access_token"].as_str().expect("at");
    assert_eq!(
        post_form(&fx, "/v1/oauth/introspect", None, &[("token", at)]).status(),
        401
    );
    assert_eq!(
        post_form(
            &fx,
            "/v1/oauth/introspect",
            None,
            &[("token", at), ("client_id", &conf_id(&fx))]
        )
        .status(),
        401
    );
    assert_eq!(
        post_form(
            &fx,
            "/v1/oauth/introspect",
            Some((&conf_id(&fx), "wrong")),
            &[("token", at)]
        )
        .status(),
        401
    );
    let pub_id = fx.public.integration.client_id.clone();
    assert_eq!(
        post_form(
            &fx,
            "/v1/oauth/introspect",
            None,
            &[("token", at), ("client_id", &pub_id)]
        )
        .status(),
        401,
        "public clients cannot authenticate"
    );
}

#[test]
fn introspection_of_live_tokens_s41() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    for (t, kind) in [
        (v["access_token"].as_str().expect("at"), "Bearer"),
        (v["refresh_token"].as_str().expect("rt"), "refresh_token"),
    ] {
        let i = introspect(&fx, t);
        assert_eq!(i["active"], true, "{kind}");
        assert_eq!(i["token_type"], kind);
        assert_eq!(i["client_id"], conf_id(&fx).as_str());
        assert_eq!(i["sub"], v["bot_id"]);
        assert_eq!(i["bot_id"], v["bot_id"]);
        assert_eq!(i["workspace_id"], fx.acme.id.as_str());
        assert_eq!(
            i["scope"],
            "read_content update_content read_user_with_email"
        );
        assert_eq!(i["iss"], fx.srv.config.server.issuer.as_str());
        assert!(i["exp"].as_i64().expect("exp") > i["iat"].as_i64().expect("iat"));
    }
    // JSON body.
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/introspect"))
        .basic_auth(conf_id(&fx), Some(conf_secret(&fx)))
        .json(&json!({"token": v["access_token"]}))
        .send()
        .expect("post");
    assert_eq!(r.json::<Value>().expect("json")["active"], true);
}

#[test]
fn introspection_of_dead_or_foreign_tokens_is_exactly_inactive_s42() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let rotated = v["refresh_token"].as_str().expect("rt").to_string();
    let n: Value = refresh(&fx, &rotated).json().expect("json");
    let inactive = json!({"active": false});
    assert_eq!(introspect(&fx, &rotated), inactive, "rotated out");
    assert_eq!(introspect(&fx, "garbage"), inactive);
    assert_eq!(introspect(&fx, "nrt_garbage"), inactive);
    // Another client's live token.
    let r = post_form(
        &fx,
        "/v1/oauth/introspect",
        Some((
            &fx.multi.integration.client_id,
            fx.multi.client_secret.as_deref().expect("s"),
        )),
        &[("token", n["access_token"].as_str().expect("at"))],
    );
    assert_eq!(r.json::<Value>().expect("json"), inactive);
    // Revoked.
    revoke(&fx, n["access_token"].as_str().expect("at"));
    assert_eq!(
        introspect(&fx, n["access_token"].as_str().expect("at")),
        inactive
    );
    // Expired: signed by the server's key with a past exp.
    let (_, keys) = pagegrant::oauth::keys::load(&mut fx.srv.conn(), &fx.srv.config).expect("keys");
    let other = tokens_for(&fx, &a);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = other["access_token"]
        .as_str()
        .expect("at")
        .split('.')
        .nth(1)
        .expect("payload");
    let mut claims: pagegrant::oauth::jwt::Claims =
        serde_json::from_slice(&b64.decode(payload).expect("b64")).expect("claims");
    claims.exp -= 7200;
    assert_eq!(
        introspect(&fx, &keys.sign_now(&claims).expect("sign")),
        inactive,
        "expired"
    );
}

#[test]
fn codes_refresh_tokens_and_jtis_are_distinct_over_http_s55() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let mut codes = HashSet::new();
    for _ in 0..1000 {
        let c = code(&fx, &a);
        assert_eq!(c.len(), 43, "256 bits");
        assert!(codes.insert(c));
    }
    let v = tokens_for(&fx, &a);
    let mut rt = v["refresh_token"].as_str().expect("rt").to_string();
    let mut refresh_seen = HashSet::new();
    let mut jtis = HashSet::new();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // `nrt_<family>.<secret>`: the family is the chain's, constant across
    // rotations; the secret is 256 fresh bits each time.
    let family_of = |t: &str| t[4..].split_once('.').expect("family").0.to_string();
    let family = family_of(&rt);
    assert_eq!(family.len(), 36, "a UUID");
    for _ in 0..1000 {
        let n: Value = refresh(&fx, &rt).json().expect("json");
        rt = n["refresh_token"].as_str().expect("rt").to_string();
        assert_eq!(family_of(&rt), family, "one family");
        assert_eq!(rt.len(), 4 + 36 + 1 + 43, "256 bits after the family");
        assert!(refresh_seen.insert(rt.clone()));
        let payload = n["access_token"]
            .as_str()
            .expect("at")
            .split('.')
            .nth(1)
            .expect("p")
            .to_string();
        let claims: Value =
            serde_json::from_slice(&b64.decode(payload).expect("b64")).expect("json");
        let jti = claims["jti"].as_str().expect("jti").to_string();
        assert!(jti.len() >= 22, "at least 128 bits");
        assert!(jtis.insert(jti));
    }
}

fn mini_post(m: &Mini, path: &str, id: &str, secret: &str, form: &[(&str, &str)]) -> Response {
    bare_client()
        .post(m.srv.url(path))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .expect("post")
}

fn assert_throttled(r: Response, what: &str) {
    assert_eq!(r.status(), 429, "{what}");
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&wait), "{what}: Retry-After {wait}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().expect("json error");
    assert_eq!(v["object"], "error");
    assert_eq!(v["status"], 429);
    assert!(v["error"].is_string() && v["error_description"].is_string());
}

#[test]
fn wrong_client_secrets_are_throttled_before_they_could_succeed_s54() {
    let m = Mini::start(|c| {
        c.security.client_max_failures = 3;
        c.security.client_max_failures_per_ip = 1000;
    });
    let code = m.code();
    for path in [
        "/v1/oauth/token",
        "/v1/oauth/introspect",
        "/v1/oauth/revoke",
    ] {
        let r = mini_post(
            &m,
            path,
            &m.id,
            "wrong",
            &[("token", "x"), ("grant_type", "refresh_token")],
        );
        assert_eq!(
            r.status(),
            401,
            "{path}: a wrong secret is still invalid_client"
        );
    }
    // The limit is reached: even the right secret is refused now, at every endpoint.
    let r = m.token(&[("grant_type", "authorization_code"), ("code", &code)]);
    assert_throttled(r, "right secret after the limit");
    for path in ["/v1/oauth/introspect", "/v1/oauth/revoke"] {
        assert_throttled(
            mini_post(&m, path, &m.id, &m.secret, &[("token", "x")]),
            path,
        );
    }
    // The code was never looked at: it still works once the window has passed.
    use diesel::RunQueryDsl;
    diesel::sql_query("UPDATE auth_failures SET window_start = window_start - 301")
        .execute(&mut m.srv.conn())
        .expect("age the window");
    let r = m.token(&[("grant_type", "authorization_code"), ("code", &code)]);
    assert_eq!(r.status(), 200);
}

#[test]
fn unknown_clients_are_throttled_per_address_s54() {
    let m = Mini::start(|c| {
        c.security.client_max_failures_per_ip = 4;
    });
    for i in 0..4 {
        let r = mini_post(
            &m,
            "/v1/oauth/token",
            &format!("made-up-{i}"),
            "secret",
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        );
        assert_eq!(r.status(), 401);
    }
    // Random client ids did not fill the table: one row, the address's.
    assert_eq!(m.srv.count("auth_failures"), 1);
    let r = m.token(&[("grant_type", "refresh_token"), ("refresh_token", "x")]);
    assert_throttled(r, "a good client from the same address");
}

#[test]
fn random_codes_and_tokens_are_throttled_per_client_s54() {
    let m = Mini::start(|c| {
        c.security.token_max_failures_per_client = 6;
    });
    let code = m.code();
    let v: Value = m
        .token(&[("grant_type", "authorization_code"), ("code", &code)])
        .json()
        .expect("json");
    let access = v["access_token"].as_str().expect("at").to_string();
    // Live and expired-but-ours tokens are not guesses.
    for _ in 0..10 {
        let r = mini_post(
            &m,
            "/v1/oauth/introspect",
            &m.id,
            &m.secret,
            &[("token", &access)],
        );
        assert_eq!(r.status(), 200);
    }
    let random = || {
        let mut b = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    for _ in 0..2 {
        let r = m.token(&[("grant_type", "authorization_code"), ("code", &random())]);
        assert_oauth_error(r, 400, "invalid_grant", "random code");
        let rt = format!("nrt_{}", random());
        let r = m.token(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
        assert_oauth_error(r, 400, "invalid_grant", "random refresh token");
    }
    let r = mini_post(
        &m,
        "/v1/oauth/introspect",
        &m.id,
        &m.secret,
        &[("token", &random())],
    );
    assert_eq!(r.json::<Value>().expect("json"), json!({"active": false}));
    let r = mini_post(
        &m,
        "/v1/oauth/revoke",
        &m.id,
        &m.secret,
        &[("token", &random())],
    );
    assert_eq!(r.status(), 200, "RFC 7009: unknown tokens are a 200");
    // Six guesses: everything this client sends is now 429, the good token too.
    assert_throttled(
        mini_post(
            &m,
            "/v1/oauth/introspect",
            &m.id,
            &m.secret,
            &[("token", &access)],
        ),
        "introspection after the guesses",
    );
    assert_throttled(
        m.token(&[("grant_type", "authorization_code"), ("code", &random())]),
        "a code after the guesses",
    );
    assert_throttled(
        mini_post(
            &m,
            "/v1/oauth/revoke",
            &m.id,
            &m.secret,
            &[("token", &access)],
        ),
        "revocation after the guesses",
    );
    // Nothing was revoked by the refused revocation.
    let r = bare_client()
        .get(m.srv.url("/v1/users/me"))
        .bearer_auth(&access)
        .send()
        .expect("me");
    assert_eq!(r.status(), 200);
}
