//! Hardening checks over the real process: no secret in the log (at trace
//! level), in error messages or in the database file (S56), and a `kill -9`
//! under load losing no committed grant and leaving none half-written (S57).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::kit::process::{consent_code, introspect, login, me, random, token_call, world, Proc};
use crate::kit::*;

/// What the database holds: every row as text, plus, on SQLite, the bytes of
/// every file it keeps (database, WAL, shared memory).
fn database_bytes(dir: &Path) -> Vec<u8> {
    let url = cli_db(dir);
    let mut all = database_text(&url).into_bytes();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(b) = std::fs::read(format!("{url}{suffix}")) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn no_secret_reaches_the_log_the_database_or_an_error_message_s56() {
    let w = world(1);
    let d = w.dir.path();
    let mut p = Proc::serve(d, "trace.log", &[("RUST_LOG", "trace")]);
    let mut secrets: Vec<(&str, String)> = vec![
        ("password", w.password.clone()),
        ("client secret", w.client_secret.clone()),
        ("internal token", w.internal_token.clone()),
    ];
    // A wrong password is a secret too.
    let wrong = format!("wrong-{}", random());
    assert_eq!(login(&p.base, "user0@example.com", &wrong).1, 200);
    secrets.push(("wrong password", wrong));
    let (browser, status, session) = login(&p.base, "user0@example.com", &w.password);
    assert_eq!(status, 303);
    secrets.push(("session id", session.expect("session cookie")));
    let code = consent_code(&p.base, &browser, &w).expect("a code from the consent flow");
    secrets.push(("code", code.clone()));
    let (status, v) = token_call(
        &p.base,
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
    )
    .expect("exchange");
    assert_eq!(status, 200);
    let access = v["access_token"].as_str().expect("at").to_string();
    let refresh = v["refresh_token"].as_str().expect("rt").to_string();
    let (status, v2) = token_call(
        &p.base,
        &w,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .expect("refresh");
    assert_eq!(status, 200);
    let access2 = v2["access_token"].as_str().expect("at").to_string();
    let refresh2 = v2["refresh_token"].as_str().expect("rt").to_string();
    assert_eq!(introspect(&p, &w, &access2)["active"], true);
    assert_eq!(introspect(&p, &w, &refresh2)["active"], true);
    assert_eq!(me(&p, &access2), 200);
    assert_eq!(me(&p, &w.internal_token), 200);

    // Error messages never echo what was sent: a replayed refresh token, a
    // used code, a wrong secret, a dead bearer token.
    let mut errors = Vec::new();
    for form in [
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ],
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ],
    ] {
        let (status, body) = token_call(&p.base, &w, &form).expect("error");
        assert_eq!(status, 400);
        errors.push(body.to_string());
    }
    let r = bare_client()
        .post(p.url("/v1/oauth/token"))
        .basic_auth(&w.client_id, Some("not-the-secret-but-close"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh2.as_str()),
        ])
        .send()
        .expect("wrong secret");
    assert_eq!(r.status(), 401);
    errors.push(r.text().expect("body"));
    let r = bare_client()
        .get(p.url("/v1/users/me"))
        .bearer_auth(&access)
        .send()
        .expect("dead token");
    errors.push(r.text().expect("body"));
    // A secret made on the page is shown once, on that page only.
    let page = browser
        .get(p.url("/developers"))
        .send()
        .expect("developers")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = browser
        .post(p.url("/developers"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Made Here"),
            ("kind", "public"),
            ("redirect_uris", CB),
        ])
        .send()
        .expect("create");
    // Post/Redirect/Get: the secret is on the page the 303 leads to.
    assert_eq!(r.status(), 303);
    let created = browser
        .get(p.url(&location(&r)))
        .send()
        .expect("created page")
        .text()
        .expect("body");
    let made_secret =
        attr(&created, "input[readonly][value]", "value").expect("the secret, shown once");
    assert_eq!(made_secret.len(), 43, "{made_secret}");
    secrets.push(("secret made on /developers", made_secret));

    for (what, s) in [("access token", &access), ("access token", &access2)] {
        secrets.push((what, s.clone()));
    }
    secrets.push(("refresh token", refresh));
    secrets.push(("refresh token", refresh2));
    p.kill9();

    let log = p.log_text();
    assert!(
        log.len() > 1000,
        "trace logging produced output: {} bytes",
        log.len()
    );
    // The log really holds the requests the secrets travelled in.
    for route in [
        "/v1/oauth/token",
        "/v1/oauth/introspect",
        "/login",
        "/developers",
    ] {
        assert!(log.contains(route), "the debug request log names {route}");
    }
    let db = database_bytes(d);
    assert!(
        db.len() > 2_000,
        "the database was read: {} bytes",
        db.len()
    );
    assert!(contains(&db, &w.client_id), "the dump holds the rows");
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "{what} in the log");
        assert!(!contains(&db, secret), "{what} in the database file");
        for e in &errors {
            assert!(
                !e.contains(secret.as_str()),
                "{what} in an error message: {e}"
            );
        }
        // Base64 of a Basic header would hide a secret from a plain search.
        use base64::Engine;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", w.client_id));
        assert!(!log.contains(&basic), "{what} in a logged Basic header");
    }
}

/// A grant as the client saw it succeed: the refresh token it holds last,
/// and the access token issued with it.
struct Seen {
    refresh: String,
    access: String,
}

#[test]
fn kill_9_under_load_loses_no_committed_grant_s57() {
    const CLIENTS: usize = 6;
    let load_for = Duration::from_secs(
        std::env::var("PAGEGRANT_CRASH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20),
    );
    let w = Arc::new(world(CLIENTS));
    let d = w.dir.path().to_path_buf();
    // The API rate limit off: hundreds of checks per connection follow the restart.
    let mut p = Proc::serve(
        &d,
        "before.log",
        &[("PAGEGRANT_API__RATE_LIMIT_PER_S", "0")],
    );
    let base = p.base.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for i in 0..CLIENTS {
        let (w, stop, seen, target) = (w.clone(), stop.clone(), seen.clone(), base.clone());
        threads.push(std::thread::spawn(move || {
            let (browser, status, _) = login(&target, &format!("user{i}@example.com"), &w.password);
            assert_eq!(status, 303);
            // Each round: consent, exchange, refresh; only a fully answered
            // round is recorded, and its tokens are never used again.
            while !stop.load(Ordering::Relaxed) {
                let Some(code) = consent_code(&target, &browser, &w) else {
                    break;
                };
                let Ok((200, v)) = token_call(
                    &target,
                    &w,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", CB),
                    ],
                ) else {
                    break;
                };
                let rt = v["refresh_token"].as_str().unwrap_or_default().to_string();
                let Ok((200, v)) = token_call(
                    &target,
                    &w,
                    &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
                ) else {
                    break;
                };
                seen.lock().expect("lock").push(Seen {
                    refresh: v["refresh_token"].as_str().unwrap_or_default().to_string(),
                    access: v["access_token"].as_str().unwrap_or_default().to_string(),
                });
            }
        }));
    }
    // Kill mid-load, while every client has requests in flight.
    let started = Instant::now();
    std::thread::sleep(load_for / 2);
    let before_kill = seen.lock().expect("lock").len();
    p.kill9();
    let killed_at = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("a client thread failed");
    }
    let grants: Vec<Seen> = std::mem::take(&mut *seen.lock().expect("lock"));
    assert!(
        before_kill >= 10,
        "the load ran: {before_kill} grants in {killed_at:?}"
    );

    // Restart on the same database: it comes up, and nothing is half-written.
    let p2 = Proc::serve(&d, "after.log", &[("PAGEGRANT_API__RATE_LIMIT_PER_S", "0")]);
    {
        use diesel::prelude::*;
        let mut db = pagegrant::db::connect(&cli_db(&d)).expect("open the database");
        if !on_postgres() {
            #[derive(QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let ok: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
                .load(&mut db)
                .expect("pragma");
            assert_eq!(ok.len(), 1);
            assert_eq!(ok[0].integrity_check, "ok");
        }
        for (what, sql) in [
            (
                "a connection without its pages",
                "SELECT COUNT(*) AS n FROM connections c JOIN integrations i ON i.id = c.integration_id \
                 WHERE i.kind = 'public' AND NOT EXISTS (SELECT 1 FROM connection_pages p WHERE p.connection_id = c.id)",
            ),
            (
                "a code without its connection",
                "SELECT COUNT(*) AS n FROM authorization_codes a \
                 WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.id = a.connection_id)",
            ),
            (
                "a redeemed code without the tokens it issued",
                "SELECT COUNT(*) AS n FROM authorization_codes a WHERE a.consumed_at IS NOT NULL \
                 AND a.family_id IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = a.family_id)",
            ),
            (
                "a token family with two live heads",
                "SELECT COUNT(*) AS n FROM (SELECT r.family_id FROM refresh_tokens r \
                 JOIN token_families f ON f.id = r.family_id \
                 WHERE r.used_at IS NULL AND f.revoked_at IS NULL \
                 GROUP BY r.family_id HAVING COUNT(*) > 1) AS heads",
            ),
            (
                "a token family without its first token",
                "SELECT COUNT(*) AS n FROM token_families f \
                 WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.id)",
            ),
            (
                "a redeemed code's family without its row",
                "SELECT COUNT(*) AS n FROM refresh_tokens r \
                 WHERE NOT EXISTS (SELECT 1 FROM token_families f WHERE f.id = r.family_id)",
            ),
        ] {
            #[derive(QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let n: N = diesel::sql_query(sql).get_result(&mut db).expect(what);
            assert_eq!(n.n, 0, "{what}");
        }
    }
    // Every grant a client saw succeed is intact and usable.
    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    for g in &grants {
        let v = introspect(&p2, &w, &g.refresh);
        assert_eq!(
            v["active"], true,
            "a refresh token the client received is live"
        );
        assert_eq!(introspect(&p2, &w, &g.access)["active"], true);
        assert_eq!(me(&p2, &g.access), 200);
        *outcomes.entry("intact").or_default() += 1;
    }
    // And they still rotate.
    for g in grants.iter().take(20) {
        let (status, _) = token_call(
            &p2.base,
            &w,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &g.refresh),
            ],
        )
        .expect("refresh after restart");
        assert_eq!(status, 200);
    }
    assert_eq!(outcomes.get("intact").copied().unwrap_or(0), grants.len());
    eprintln!(
        "S57: {} grants seen before kill -9 at {killed_at:?}, all intact after restart",
        grants.len()
    );
}

/// Every `.route("path", web::get|post()…)` the source mounts: (method, path).
fn mounted_routes() -> Vec<(String, String)> {
    let re = regex_lite::Regex::new(r#"\.route\(\s*"(/[^"]*)"\s*,\s*web::(get|post)\(\)"#)
        .expect("regex");
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).expect("src").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).expect("source");
                for c in re.captures_iter(&text) {
                    out.push((c[2].to_uppercase(), c[1].to_string()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn assert_page_headers(r: &reqwest::blocking::Response, what: &str) {
    let h = r.headers();
    let get = |k: &str| {
        h.get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(get("x-frame-options"), "DENY", "{what}: X-Frame-Options");
    let csp = get("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: CSP {csp:?}"
    );
    assert!(csp.contains("default-src 'self'"), "{what}: CSP {csp:?}");
    assert!(
        get("cache-control").contains("no-store"),
        "{what}: Cache-Control"
    );
    assert_eq!(
        get("referrer-policy"),
        "no-referrer",
        "{what}: Referrer-Policy"
    );
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    for cookie in h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        let lower = cookie.to_ascii_lowercase();
        assert!(
            lower.contains("httponly")
                && lower.contains("samesite=lax")
                && lower.contains("path=/"),
            "{what}: cookie {cookie}"
        );
    }
}

#[test]
fn every_html_route_sends_the_page_headers_s45_s46_s51() {
    let fx = crate::kit::fixture();
    let conn_id = {
        crate::kit::connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
        pagegrant::db::queries::connections::find_installed(
            &mut fx.srv.conn(),
            &fx.conf.integration.id,
            &fx.acme.id,
            &fx.ada.id,
        )
        .expect("q")
        .expect("conn")
        .id
        .to_string()
    };
    let mine = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Ada's".into(),
            redirect_uris: vec![CB.into()],
            created_by: Some(fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("register");
    let fill = |path: &str| {
        path.replace("{workspace_id}", fx.acme.id.as_str())
            .replace("{page_id}", fx.eng.id.as_str())
            .replace("{connection_id}", &conn_id)
            .replace("{id}", mine.integration.id.as_str())
            .replace("{file}", "style.css")
    };
    let ada = logged_in(&fx.srv, "ada@example.com");
    let anon = bare_client();
    let routes = mounted_routes();
    assert!(routes.len() > 25, "found the routes: {routes:?}");
    let mut html_routes = 0;
    for (method, path) in &routes {
        let url = fx.srv.url(&fill(path));
        let mut saw_html = false;
        for (who, c) in [("owner", &ada), ("anonymous", &anon)] {
            let r = match method.as_str() {
                "GET" => c.get(&url).send(),
                // Without the CSRF token every form post is a 403 page.
                _ => c.post(&url).form(&[("x", "1")]).send(),
            }
            .expect("request");
            let is_html = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            let what = format!("{who} {method} {path} ({})", r.status());
            assert!(r.status().as_u16() < 500, "{what}");
            if is_html {
                saw_html = true;
                assert_page_headers(&r, &what);
            }
        }
        html_routes += usize::from(saw_html);
    }
    // The login page, a bad client, an unknown path: error pages too.
    for url in [
        "/login",
        "/v1/oauth/authorize?client_id=nope",
        "/no/such/page",
        "/w/not-a-workspace",
    ] {
        let r = anon.get(fx.srv.url(url)).send().expect("get");
        assert_page_headers(&r, url);
    }
    assert!(html_routes >= 20, "{html_routes} HTML routes checked");
}

#[test]
fn internal_tokens_client_secrets_and_session_ids_are_distinct_over_http_s55() {
    use std::collections::HashSet;
    let fx = crate::kit::fixture();
    // A cheap password hash for this user only, so 1,000 logins stay quick;
    // the server verifies whatever parameters the stored hash names.
    {
        use argon2::password_hash::{PasswordHasher, SaltString};
        use diesel::prelude::*;
        let params = argon2::Params::new(8, 1, 1, None).expect("params");
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = a
            .hash_password(PASSWORD.as_bytes(), &salt)
            .expect("hash")
            .to_string();
        use pagegrant::db::schema::users;
        diesel::update(users::table.filter(users::id.eq(&fx.grace.id)))
            .set(users::password_hash.eq(hash))
            .execute(&mut fx.srv.conn())
            .expect("set hash");
    }
    let mut sessions = HashSet::new();
    for _ in 0..1000 {
        let (_, status, id) = login(&fx.srv.base, "grace@example.com", PASSWORD);
        assert_eq!(status, 303);
        let id = id.expect("session cookie");
        assert_eq!(id.len(), 43, "256-bit session id");
        assert!(sessions.insert(id), "a session id repeated");
    }
    let grace = logged_in(&fx.srv, "grace@example.com");
    let csrf = || {
        let (_, page) = get_html(&grace, &fx.srv.url("/developers"));
        input_value(&page, "csrf").expect("csrf")
    };
    let token = csrf();
    let secret_of = |page: &str, id: &str| field_by_id(page, id).expect("field");
    // 1,000 internal tokens, each shown once at creation.
    let mut internal = HashSet::new();
    for i in 0..1000 {
        let r = grace
            .post(fx.srv.url("/developers"))
            .form(&[
                ("csrf", token.as_str()),
                ("name", &format!("Bot {i}")),
                ("kind", "internal"),
                ("workspace_id", fx.acme.id.as_str()),
            ])
            .send()
            .expect("create");
        assert_eq!(r.status(), 303, "Post/Redirect/Get");
        let (_, page) = follow(&fx.srv, &grace, r);
        let t = secret_of(&page, "token");
        assert!(t.starts_with("ntn_") && t.len() == 4 + 43, "{t}");
        assert!(internal.insert(t));
    }
    // 1,000 client secrets: one at creation, then Rotate secret.
    let r = grace
        .post(fx.srv.url("/developers"))
        .form(&[
            ("csrf", token.as_str()),
            ("name", "Rotating"),
            ("kind", "public"),
            ("redirect_uris", CB),
        ])
        .send()
        .expect("create");
    let (_, page) = follow(&fx.srv, &grace, r);
    let mut secrets = HashSet::from([secret_of(&page, "client-secret")]);
    let at = page.find("/developers/").expect("id") + 12;
    let id = page[at..at + 36].to_string();
    for _ in 1..1000 {
        let r = grace
            .post(fx.srv.url(&format!("/developers/{id}/rotate")))
            .form(&[("csrf", token.as_str())])
            .send()
            .expect("rotate");
        let s = secret_of(&follow(&fx.srv, &grace, r).1, "client-secret");
        assert_eq!(s.len(), 43);
        assert!(secrets.insert(s), "a client secret repeated");
    }
    assert_eq!(secrets.len(), 1000);
}

/// Found by the fuzzer on PostgreSQL, which cannot store a NUL in text: every
/// request carrying one is refused up front, in the format of its path.
#[test]
fn nul_characters_are_refused_in_the_right_format() {
    let fx = crate::kit::fixture();
    let r = bare_client()
        .get(fx.srv.url("/v1/oauth/authorize?client_id=%00%0D%0A%22%5C"))
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 400);
    assert!(location(&r).is_empty(), "never a redirect");
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/html"));
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "nrt_\0")])
        .send()
        .expect("token");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().expect("oauth json");
    assert_eq!(v["error"], "invalid_request");
    let r = bare_client()
        .post(fx.srv.url("/v1/search"))
        .bearer_auth("ntn_whatever")
        .json(&serde_json::json!({"query": "a\u{0}b"}))
        .send()
        .expect("search");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().expect("notion json");
    assert_eq!(v["code"], "validation_error");
    let c = client();
    let page = c
        .get(fx.srv.url("/login"))
        .send()
        .expect("login")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let r = c
        .post(fx.srv.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "ada@example.com\0"),
            ("password", "x"),
        ])
        .send()
        .expect("login");
    assert_eq!(r.status(), 400);
    assert!(r.text().expect("body").contains("NUL"));
    // Ordinary text is untouched: a percent sign alone, and the word "u0000".
    let r = bare_client()
        .get(
            fx.srv
                .url("/v1/oauth/authorize?client_id=nope%25&state=u0000"),
        )
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 400);
    assert!(!r.text().expect("body").contains("NUL"));
}
