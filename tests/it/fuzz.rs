//! Property-based fuzzing of the HTTP surface with proptest: the
//! authorization endpoint and consent POST, token, introspection and
//! revocation (form, JSON and garbage bodies, good and bad credentials), and
//! the `/v1/*` JSON API. The property: every request gets an answer below
//! 500 (no 5xx, no dropped connection, so no panic), and the server is healthy
//! afterwards. A short seeded run is part of the suite; `scripts/fuzz` runs
//! 100,000 requests on a release build (`PAGEGRANT_FUZZ_CASES`,
//! `PAGEGRANT_FUZZ_SEED`). Throttles and the API rate limit are opened wide so
//! the requests reach the parsers instead of the 429 path.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use reqwest::blocking::Client;
use serde_json::Value;

use crate::kit::*;

#[derive(Debug, Clone)]
enum Auth {
    None,
    Good,
    WrongSecret,
    Garbage(String),
}

#[derive(Debug, Clone)]
enum Body {
    Form(Vec<(String, String)>),
    Json(Value),
    Raw(String, Vec<u8>),
}

#[derive(Debug, Clone)]
enum Req {
    Authorize {
        query: String,
        logged_in: bool,
    },
    Consent(Vec<(String, String)>),
    OAuth {
        path: &'static str,
        auth: Auth,
        body: Body,
    },
    Api {
        method: &'static str,
        path: String,
        bearer: Option<bool>,
        version: Option<String>,
        body: Option<Body>,
    },
}

/// Strings that tend to break parsers.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ -~]{0,40}",
        "\\PC{0,24}",
        Just("%".into()),
        Just("%zz%0d%0a%00".into()),
        Just("\u{0}\r\n\"\\".into()),
        Just("../../etc/passwd".into()),
        Just("a".repeat(5000)),
        Just("nrt_".into()),
        Just("ntn_AAAA".into()),
        Just("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".into()),
        Just("00000000-0000-4000-8000-000000000000".into()),
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

const OAUTH_KEYS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
    "scope",
    "state",
];
const AUTHORIZE_KEYS: &[&str] = &[
    "client_id",
    "response_type",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "owner",
    "workspace_id",
    "prompt",
];

fn pairs(
    keys: &'static [&'static str],
    good: Vec<String>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    let key = prop_oneof![4 => proptest::sample::select(keys).prop_map(String::from), 1 => nasty()];
    let value = prop_oneof![3 => proptest::sample::select(good), 3 => nasty()];
    proptest::collection::vec((key, value), 0..8)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        nasty().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    proptest::sample::select(vec![
                        "query",
                        "filter",
                        "property",
                        "value",
                        "sort",
                        "timestamp",
                        "direction",
                        "start_cursor",
                        "page_size",
                        "parent",
                        "page_id",
                        "properties",
                        "title",
                        "text",
                        "content",
                        "in_trash",
                        "archived",
                        "grant_type",
                        "code",
                        "token",
                        "refresh_token",
                        "redirect_uri",
                    ])
                    .prop_map(String::from),
                    nasty(),
                ],
                inner,
                0..5
            )
            .prop_map(|m: BTreeMap<String, Value>| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body(good: Vec<String>) -> impl Strategy<Value = Body> {
    prop_oneof![
        3 => pairs(OAUTH_KEYS, good).prop_map(Body::Form),
        2 => json_value().prop_map(Body::Json),
        1 => (
            proptest::sample::select(vec![
                "application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data",
            ])
            .prop_map(String::from),
            proptest::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(|(t, b)| Body::Raw(t, b)),
    ]
}

fn request(fx: &Fx, internal: &str) -> impl Strategy<Value = Req> {
    let good: Vec<String> = vec![
        fx.conf.integration.client_id.clone(),
        fx.public.integration.client_id.clone(),
        "https://partner.example/cb".into(),
        "http://127.0.0.1:9/cb".into(),
        "code".into(),
        "authorization_code".into(),
        "refresh_token".into(),
        "S256".into(),
        "plain".into(),
        "user".into(),
        "read_content update_content".into(),
        crate::kit::CHALLENGE.into(),
        crate::kit::VERIFIER.into(),
        fx.acme.id.to_string(),
        internal.to_string(),
    ];
    let page_ids = vec![
        fx.eng.id.to_string(),
        fx.roadmap.id.to_string(),
        fx.ada_private.id.to_string(),
        "not-a-page".into(),
        "0000000000004000800000000000000".into(),
    ];
    let authorize =
        (pairs(AUTHORIZE_KEYS, good.clone()), any::<bool>()).prop_map(|(p, logged_in)| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &p {
                ser.append_pair(k, v);
            }
            Req::Authorize {
                query: ser.finish(),
                logged_in,
            }
        });
    let consent = pairs(
        &["request_id", "csrf", "decision", "page", "workspace_id"],
        vec!["allow".into(), "deny".into(), fx.eng.id.to_string()],
    )
    .prop_map(Req::Consent);
    let auth = prop_oneof![
        Just(Auth::None),
        Just(Auth::Good),
        Just(Auth::WrongSecret),
        nasty().prop_map(Auth::Garbage),
    ];
    let oauth = (
        proptest::sample::select(vec![
            "/v1/oauth/token",
            "/v1/oauth/introspect",
            "/v1/oauth/revoke",
        ]),
        auth,
        body(good.clone()),
    )
        .prop_map(|(path, auth, body)| Req::OAuth { path, auth, body });
    let api_path = (
        proptest::sample::select(vec![
            "/v1/search",
            "/v1/pages/{}",
            "/v1/pages",
            "/v1/blocks/{}/children",
            "/v1/blocks/{}",
            "/v1/users/me",
            "/v1/users/{}",
        ]),
        prop_oneof![proptest::sample::select(page_ids), nasty()],
        proptest::option::of((nasty(), nasty())),
    )
        .prop_map(|(p, id, q)| {
            let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
            let mut path = p.replace("{}", &enc);
            if let Some((a, b)) = q {
                let a: String = url::form_urlencoded::byte_serialize(a.as_bytes()).collect();
                let b: String = url::form_urlencoded::byte_serialize(b.as_bytes()).collect();
                path = format!("{path}?start_cursor={a}&page_size={b}");
            }
            path
        });
    let api = (
        proptest::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT"]),
        api_path,
        prop_oneof![3 => Just(Some(true)), 1 => Just(Some(false)), 1 => Just(None)],
        prop_oneof![
            3 => Just(None),
            1 => Just(Some("2022-06-28".to_string())),
            1 => Just(Some("2025-09-03".to_string())),
            1 => nasty().prop_map(Some),
        ],
        proptest::option::of(body(good)),
    )
        .prop_map(|(method, path, bearer, version, body)| Req::Api {
            method,
            path,
            bearer,
            version,
            body,
        });
    prop_oneof![2 => authorize, 1 => consent, 4 => oauth, 3 => api]
}

fn send(fx: &Fx, browser: &Client, internal: &str, req: &Req) -> Result<u16, String> {
    let http = bare_client();
    let with_body = |mut rb: reqwest::blocking::RequestBuilder, b: &Body| match b {
        Body::Form(p) => rb.form(p),
        Body::Json(v) => rb.json(v),
        Body::Raw(t, bytes) => {
            if !t.is_empty() {
                rb = rb.header("content-type", t.as_str());
            }
            rb.body(bytes.clone())
        }
    };
    let r = match req {
        Req::Authorize { query, logged_in } => {
            let c = if *logged_in { browser } else { &http };
            c.get(fx.srv.url(&format!("/v1/oauth/authorize?{query}")))
                .send()
        }
        Req::Consent(form) => browser
            .post(fx.srv.url("/v1/oauth/authorize"))
            .form(form)
            .send(),
        Req::OAuth { path, auth, body } => {
            let id = &fx.conf.integration.client_id;
            let mut rb = http.post(fx.srv.url(path));
            rb = match auth {
                Auth::None => rb,
                Auth::Good => rb.basic_auth(id, fx.conf.client_secret.as_deref()),
                Auth::WrongSecret => rb.basic_auth(id, Some("wrong")),
                Auth::Garbage(g) => rb.header(
                    "authorization",
                    format!("Basic {g}").replace(['\r', '\n', '\0'], ""),
                ),
            };
            with_body(rb, body).send()
        }
        Req::Api {
            method,
            path,
            bearer,
            version,
            body,
        } => {
            let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
            let mut rb = http.request(m, fx.srv.url(path));
            match bearer {
                Some(true) => rb = rb.bearer_auth(internal),
                Some(false) => rb = rb.bearer_auth("garbage.token.here"),
                None => {}
            }
            if let Some(v) = version {
                if let Ok(h) = reqwest::header::HeaderValue::from_str(v) {
                    rb = rb.header("notion-version", h);
                }
            }
            match body {
                Some(b) => with_body(rb, b).send(),
                None => rb.send(),
            }
        }
    };
    match r {
        Ok(resp) => {
            let status = resp.status().as_u16();
            // Read the body: a handler that dies mid-response shows here.
            resp.bytes().map_err(|e| format!("body: {e}"))?;
            Ok(status)
        }
        // Header values reqwest itself refuses to send are not requests.
        Err(e) if e.is_builder() => Ok(0),
        Err(e) => Err(format!("no answer: {e}")),
    }
}

#[test]
fn fuzz_http_surface_never_answers_5xx() {
    let cases: u32 = std::env::var("PAGEGRANT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let seed: u64 = std::env::var("PAGEGRANT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261201);
    let fx = fixture_with(|c| {
        c.api.rate_limit_per_s = 0;
        c.security.client_max_failures = 1_000_000;
        c.security.client_max_failures_per_ip = 1_000_000;
        c.security.token_max_failures_per_client = 1_000_000;
        c.security.login_max_failures_per_ip = 1_000_000;
    });
    let internal = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Fuzz Bot".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            created_by: Some(fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("internal")
    .internal_token
    .expect("token");
    pagegrant::domain::connections::connection_add_page(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &pagegrant::db::queries::connections::for_integration(
            &mut fx.srv.conn(),
            &pagegrant::db::queries::integrations::by_name(&mut fx.srv.conn(), "Fuzz Bot")
                .expect("q")[0]
                .id,
        )
        .expect("q")[0]
            .id,
        &fx.eng.id,
    )
    .expect("share");
    let browser = logged_in(&fx.srv, "ada@example.com");
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 200,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let sent = AtomicUsize::new(0);
    let statuses: std::sync::Mutex<BTreeMap<u16, usize>> = Default::default();
    let result = runner.run(&request(&fx, &internal), |req| {
        sent.fetch_add(1, Ordering::Relaxed);
        let status = send(&fx, &browser, &internal, &req).map_err(TestCaseError::fail)?;
        *statuses.lock().expect("lock").entry(status).or_default() += 1;
        prop_assert!(status < 500, "{status} for {req:?}");
        Ok(())
    });
    let statuses = statuses.into_inner().expect("lock");
    let five = statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum::<usize>();
    println!(
        "fuzz: {} requests (seed {seed}), {five} with 5xx; statuses {statuses:?}",
        sent.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let r = bare_client()
        .get(fx.srv.url("/healthz"))
        .send()
        .expect("healthz");
    assert_eq!(r.status(), 200, "healthy after fuzzing");
}
