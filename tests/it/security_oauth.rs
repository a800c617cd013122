//! Security round 2 (issue 15), the OAuth side: client lockout, limits
//! that hold under concurrency, the `auth_failures` table's growth, argon2
//! outside the pool, exact expiry, low-S signatures, JSON-shaped framework
//! errors and the body read deadline. Every test speaks HTTP to the real
//! server; "another address" is another loopback address (127.0.0.2, ...),
//! which the server sees as a different peer.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

use crate::kit::*;

const LOOPBACK_CB: &str = "http://127.0.0.1:7000/cb";

/// A client that speaks from another loopback address.
fn from(ip: &str) -> Client {
    Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn token_form(c: &Client, fx: &Fx, form: &[(&str, &str)]) -> Response {
    c.post(fx.srv.url("/v1/oauth/token"))
        .form(form)
        .send()
        .expect("token")
}

/// A code for the confidential client, from Ada's consent.
fn conf_code(fx: &Fx, ada: &Client) -> String {
    let page = consent_page(fx, ada, &base(&fx.conf.integration.client_id, &[]));
    let r = answer(fx, ada, &page, "allow", &[fx.eng.id.as_str()]);
    code_of(&r)
}

/// A code for the public client (PKCE, loopback redirect URI).
fn public_code(fx: &Fx, ada: &Client) -> String {
    let id = fx.public.integration.client_id.clone();
    let extra = [
        ("redirect_uri", LOOPBACK_CB),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let page = consent_page(fx, ada, &base(&id, &extra));
    let r = answer(fx, ada, &page, "allow", &[fx.eng.id.as_str()]);
    code_of(&r)
}

fn exchange_public(fx: &Fx, c: &Client, code: &str) -> Response {
    token_form(
        c,
        fx,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", LOOPBACK_CB),
            ("client_id", &fx.public.integration.client_id),
            ("code_verifier", VERIFIER),
        ],
    )
}

fn exchange_conf(fx: &Fx, c: &Client, code: &str) -> Response {
    c.post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
        ])
        .send()
        .expect("token")
}

fn introspect(fx: &Fx, token: &str) -> Value {
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/introspect"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[("token", token)])
        .send()
        .expect("introspect");
    assert_eq!(r.status(), 200);
    r.json().expect("json")
}

fn access_token(fx: &Fx, ada: &Client) -> String {
    let r = exchange_conf(fx, &bare_client(), &conf_code(fx, ada));
    assert_eq!(r.status(), 200);
    let v: Value = r.json().expect("json");
    v["access_token"].as_str().expect("at").to_string()
}

fn random_code() -> String {
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    B64.encode(b)
}

// ---- #4: nobody without a client's secret can lock that client out.

#[test]
fn public_client_cannot_be_locked_out_by_wrong_secrets() {
    let fx = fixture_with(|c| {
        c.security.client_max_failures = 3;
        c.security.token_max_failures_per_client = 3;
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = fx.public.integration.client_id.clone();
    let attacker = from("127.0.0.2");
    // Wrong secrets with the public client's id, then random codes (a
    // public client needs no secret, so anyone can send them as it).
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let r = token_form(
            &attacker,
            &fx,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", &id),
                ("client_secret", "wrong"),
            ],
        );
        statuses.push(r.status().as_u16());
    }
    for _ in 0..10 {
        let r = exchange_public(&fx, &attacker, &random_code());
        statuses.push(r.status().as_u16());
    }
    // S54 still holds for the attacker's address: it is stopped.
    assert_eq!(&statuses[..3], &[401, 401, 401], "{statuses:?}");
    assert!(statuses[3..10].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429 || *s == 400));
    assert_eq!(*statuses.last().expect("last"), 429, "{statuses:?}");
    // The client's real users, elsewhere, are not.
    let r = exchange_public(&fx, &bare_client(), &public_code(&fx, &ada));
    assert_eq!(r.status(), 200, "a legitimate exchange after the attack");
}

#[test]
fn wrong_secrets_from_one_address_do_not_lock_out_a_confidential_client() {
    let fx = fixture_with(|c| c.security.client_max_failures = 3);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let attacker = from("127.0.0.3");
    let id = fx.conf.integration.client_id.clone();
    for i in 0..6 {
        let r = attacker
            .post(fx.srv.url("/v1/oauth/token"))
            .basic_auth(&id, Some("wrong"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .send()
            .expect("post");
        assert_eq!(r.status(), if i < 3 { 401 } else { 429 }, "guess {i}");
    }
    // Guessing from that address stops before it could succeed: the right
    // secret is refused there too.
    let code = conf_code(&fx, &ada);
    assert_eq!(exchange_conf(&fx, &attacker, &code).status(), 429);
    // The client's own server, elsewhere, goes on; the code was never looked at.
    assert_eq!(exchange_conf(&fx, &bare_client(), &code).status(), 200);
}

// ---- #5: limits hold under concurrency.

#[test]
fn parallel_wrong_passwords_never_exceed_the_login_limit() {
    let srv = TestServer::start_with(|c| {
        c.security.login_max_failures_per_account = 10;
        c.security.login_max_failures_per_ip = 1000;
    });
    srv.user("ada@example.com", "Ada");
    // Each client holds its login form, then all post at once.
    let forms: Vec<(Client, String)> = (0..40)
        .map(|_| {
            let c = client();
            let page = c
                .get(srv.url("/login"))
                .send()
                .expect("get")
                .text()
                .expect("body");
            let csrf = input_value(&page, "csrf").expect("csrf");
            (c, csrf)
        })
        .collect();
    let barrier = Arc::new(Barrier::new(forms.len()));
    let url = srv.url("/login");
    let handles: Vec<_> = forms
        .into_iter()
        .map(|(c, csrf)| {
            let (barrier, url) = (barrier.clone(), url.clone());
            std::thread::spawn(move || {
                barrier.wait();
                c.post(&url)
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("email", "ada@example.com"),
                        ("password", "wrong password"),
                    ])
                    .send()
                    .expect("post")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = handles
        .into_iter()
        .map(|h| h.join().expect("join"))
        .collect();
    let checked = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (10, 30), "{statuses:?}");
}

#[test]
fn parallel_wrong_client_secrets_never_exceed_the_limit() {
    let fx = fixture_with(|c| {
        c.security.client_max_failures = 10;
        c.security.client_max_failures_per_ip = 1000;
    });
    let id = fx.conf.integration.client_id.clone();
    let barrier = Arc::new(Barrier::new(40));
    let url = fx.srv.url("/v1/oauth/token");
    let handles: Vec<_> = (0..40)
        .map(|_| {
            let (barrier, url, id) = (barrier.clone(), url.clone(), id.clone());
            std::thread::spawn(move || {
                let c = bare_client();
                barrier.wait();
                c.post(&url)
                    .basic_auth(&id, Some("wrong"))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
                    .send()
                    .expect("post")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = handles
        .into_iter()
        .map(|h| h.join().expect("join"))
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (10, 30), "{statuses:?}");
}

// ---- #12: `auth_failures` does not grow without bound.

#[test]
fn auth_failures_are_purged_and_overlong_emails_are_not_counted() {
    use diesel::RunQueryDsl;
    let srv = TestServer::start();
    // A window that closed long ago.
    diesel::sql_query(
        "INSERT INTO auth_failures (key, failures, window_start) VALUES ('login:acct:old@example.com', 3, 1000)",
    )
    .execute(&mut srv.conn())
    .expect("old row");
    // A 60,000-character address is refused like any failure, and not stored.
    let long = format!("{}@example.com", "a".repeat(60_000));
    let c = client();
    let r = login(&srv, &c, &long, "wrong password", None);
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .expect("body")
        .contains("Incorrect email or password."));
    let text = database_text(&srv.config.database.url);
    assert!(
        !text.contains(&"a".repeat(300)),
        "an over-long key was stored"
    );
    // The next counted failure purges the closed window.
    let r = login(&srv, &c, "nobody@example.com", "wrong password", None);
    assert_eq!(r.status(), 200);
    let text = database_text(&srv.config.database.url);
    assert!(
        !text.contains("old@example.com"),
        "the closed window stayed"
    );
    assert!(text.contains("login:acct:nobody@example.com"));
}

// ---- #18: argon2 does not hold a pooled connection.

#[test]
fn failed_login_flood_does_not_starve_the_pool() {
    // One connection, and four times more queued argon2 work (~50 ms each)
    // than the 5 s /healthz may take: while argon2 held the connection, the
    // health check waited behind every login (~8 s here); now the logins
    // hold it only to count and record, and it answers at once.
    let srv = TestServer::start_with(|c| {
        c.database.pool_size = 1;
        c.security.login_max_failures_per_ip = 10_000;
    });
    let n = 160;
    let forms: Vec<(Client, String)> = (0..n)
        .map(|_| {
            let c = client();
            let page = c
                .get(srv.url("/login"))
                .send()
                .expect("get")
                .text()
                .expect("body");
            (c, input_value(&page, "csrf").expect("csrf"))
        })
        .collect();
    let barrier = Arc::new(Barrier::new(n + 1));
    let url = srv.url("/login");
    let flood: Vec<_> = forms
        .into_iter()
        .enumerate()
        .map(|(i, (c, csrf))| {
            let (barrier, url) = (barrier.clone(), url.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let email = format!("user{i}@example.com");
                let r = c
                    .post(&url)
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("email", email.as_str()),
                        ("password", "wrong password"),
                    ])
                    .send();
                r.map(|r| r.status().as_u16()).unwrap_or(0)
            })
        })
        .collect();
    barrier.wait();
    // Let the logins take the blocking threads and the connections.
    std::thread::sleep(Duration::from_millis(100));
    let quick = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let r = quick.get(srv.url("/healthz")).send();
    let statuses: Vec<u16> = flood.into_iter().map(|h| h.join().expect("join")).collect();
    assert_eq!(
        r.map(|r| r.status().as_u16()).ok(),
        Some(200),
        "/healthz during a login flood"
    );
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

// ---- #10: the issuer judges `exp` exactly.

#[test]
fn expired_access_token_is_refused_at_once_without_leeway() {
    let fx = fixture_with(|c| c.tokens.access_ttl_s = 1);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let token = access_token(&fx, &ada);
    // `exp` is `iat + 1` in whole seconds: past it after two.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(me_status(&fx, &token), 401, "/v1 after exp");
    assert_eq!(
        introspect(&fx, &token)["active"],
        false,
        "introspection after exp"
    );
}

// ---- #17: one string per token.

#[test]
fn high_s_signatures_are_refused() {
    use p256::ecdsa::Signature;
    let fx = fixture_with(|_| {});
    let ada = logged_in(&fx.srv, "ada@example.com");
    let token = access_token(&fx, &ada);
    let (signed, sig) = token.rsplit_once('.').expect("jws");
    let sig = Signature::from_slice(&B64.decode(sig).expect("b64")).expect("64 bytes");
    assert!(sig.normalize_s().is_none(), "the server signs low-S");
    let (r, s) = sig.split_scalars();
    let flipped = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).expect("n - s");
    assert!(flipped.normalize_s().is_some(), "n - s is high");
    let forged = format!("{signed}.{}", B64.encode(flipped.to_bytes()));
    assert_eq!(me_status(&fx, &token), 200);
    assert_eq!(me_status(&fx, &forged), 401, "high-S at /v1");
    assert_eq!(
        introspect(&fx, &forged)["active"],
        false,
        "high-S introspected"
    );
    assert_eq!(introspect(&fx, &token)["active"], true);
}

// ---- #9: JSON endpoints answer JSON, whatever failed.

fn assert_json_error(r: Response, status: u16, shape: &str, what: &str) -> Value {
    // A method without a route under /v1 falls through to the unknown-route
    // answer (404, Notion's shape); either is fine as long as it is JSON.
    let status = if status == 405 && r.status() == 404 {
        404
    } else {
        status
    };
    assert_eq!(r.status(), status, "{what}");
    let ctype = r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(ctype.starts_with("application/json"), "{what}: {ctype}");
    let v: Value = r.json().expect("json");
    assert_eq!(v["object"], "error", "{what}: {v}");
    assert_eq!(v["status"], status, "{what}: {v}");
    match shape {
        "oauth" => assert_eq!(v["error"], "invalid_request", "{what}: {v}"),
        _ => assert!(
            v["code"].is_string() && v.get("error").is_none(),
            "{what}: {v}"
        ),
    }
    v
}

#[test]
fn framework_errors_on_json_endpoints_are_json() {
    let fx = fixture_with(|_| {});
    let ada = logged_in(&fx.srv, "ada@example.com");
    let token = access_token(&fx, &ada);
    let big = vec![b'a'; 300 * 1024];
    let c = bare_client();
    for path in [
        "/v1/oauth/token",
        "/v1/oauth/introspect",
        "/v1/oauth/revoke",
    ] {
        // Too large, with a Content-Length and chunked.
        let r = c
            .post(fx.srv.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .expect("post");
        assert_json_error(r, 413, "oauth", path);
        let r = c
            .post(fx.srv.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(reqwest::blocking::Body::new(std::io::Cursor::new(
                big.clone(),
            )))
            .send()
            .expect("post");
        assert_json_error(r, 413, "oauth", &format!("{path} chunked"));
        let long = format!("{path}?pad={}", "x".repeat(9000));
        let r = c.post(fx.srv.url(&long)).send().expect("post");
        assert_json_error(r, 414, "oauth", &format!("{path} long URL"));
    }
    for path in ["/v1/search", "/v1/pages"] {
        let r = c
            .post(fx.srv.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .expect("post");
        assert_json_error(r, 413, "api", path);
        let r = c
            .post(fx.srv.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(reqwest::blocking::Body::new(std::io::Cursor::new(
                big.clone(),
            )))
            .send()
            .expect("post");
        assert_json_error(r, 413, "api", &format!("{path} chunked"));
    }
    // Methods without a route (405 or the unknown-route 404).
    for (method, path) in [
        (reqwest::Method::DELETE, "/v1/search"),
        (reqwest::Method::PUT, "/v1/users/me"),
        (
            reqwest::Method::DELETE,
            "/v1/pages/00000000-0000-4000-8000-000000000000",
        ),
    ] {
        let r = c
            .request(method.clone(), fx.srv.url(path))
            .bearer_auth(&token)
            .send()
            .expect("send");
        assert_json_error(r, 405, "api", &format!("{method} {path}"));
    }
    let long = format!("/v1/users/me?pad={}", "x".repeat(9000));
    let r = c
        .get(fx.srv.url(&long))
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_json_error(r, 414, "api", "long URL");
    // `error_description` is printable ASCII (RFC 6749 §5.2), whatever a
    // field name held.
    for body in [
        "{\"a\\tb\\u0007\u{e9}\u{202e}\": [1]}".to_string(),
        "{\"x\\\"y\\\\z\": {}}".to_string(),
    ] {
        let r = c
            .post(fx.srv.url("/v1/oauth/token"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .expect("post");
        let v = assert_json_error(r, 400, "oauth", &body);
        let d = v["error_description"].as_str().expect("description");
        assert!(
            d.bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
            "{d:?}"
        );
    }
    let r = c
        .post(fx.srv.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("b%C3%A9l%07=1&b%C3%A9l%07=2")
        .send()
        .expect("post");
    let v = assert_json_error(r, 400, "oauth", "repeated odd name");
    let d = v["error_description"].as_str().expect("description");
    assert!(d.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{d:?}");
}

// ---- #11: a body is read within a deadline.

fn raw_request(srv: &TestServer, head: &str, trickle: bool) -> (Duration, String) {
    let addr = srv.base.trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let start = Instant::now();
    s.write_all(head.as_bytes()).expect("head");
    let mut out = Vec::new();
    if trickle {
        // One byte every 300 ms: the body would take 30 s.
        let mut w = s.try_clone().expect("clone");
        std::thread::spawn(move || {
            for _ in 0..100 {
                std::thread::sleep(Duration::from_millis(300));
                if w.write_all(b"a").is_err() {
                    break;
                }
            }
        });
    }
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    (start.elapsed(), String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn request_body_is_read_within_a_deadline() {
    let srv = TestServer::start_with(|c| c.server.body_timeout_s = 2);
    let head = "POST /v1/oauth/token HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";
    for trickle in [false, true] {
        let (took, answer) = raw_request(&srv, head, trickle);
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "trickle {trickle}: after {took:?}: {answer:?}"
        );
        assert!(answer.contains("application/json"), "{answer}");
        assert!(took < Duration::from_secs(5), "trickle {trickle}: {took:?}");
    }
}
