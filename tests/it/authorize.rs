//! The authorization endpoint and the consent page (SECURITY S3–S17, S45–S49;
//! DESIGN §3 consent, §4 authorization), over HTTP against the real server.

use crate::kit::*;
use pagegrant::db::models::IntegrationKind;
use pagegrant::domain::integrations::{self, NewIntegration};
use reqwest::blocking::{Client, Response};

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An error page: 400 HTML, no Location (S3, S4).
fn assert_page(r: Response, what: &str) -> String {
    assert_eq!(r.status(), 400, "{what}");
    assert!(
        r.headers().get("location").is_none(),
        "{what}: must not redirect"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html"),
        "{what}"
    );
    r.text().expect("body")
}

/// An error redirect: 303 to `prefix` with `error`, `state`, `iss` (S10–S14).
fn assert_error_redirect(
    srv: &TestServer,
    r: &Response,
    prefix: &str,
    error: &str,
    state: Option<&str>,
    what: &str,
) {
    assert_eq!(r.status(), 303, "{what}");
    let loc = location(r);
    assert!(loc.starts_with(prefix), "{what}: {loc}");
    let p = params(&loc);
    assert_eq!(
        p.get("error").map(String::as_str),
        Some(error),
        "{what}: {loc}"
    );
    assert!(p.contains_key("error_description"), "{what}");
    assert_eq!(p.get("state").map(String::as_str), state, "{what}");
    assert_eq!(
        p.get("iss"),
        Some(&srv.config.server.issuer),
        "{what}: iss (S14)"
    );
    assert!(!p.contains_key("code"), "{what}: no code");
}

fn connection_count(fx: &Fx) -> i64 {
    fx.srv.count("connections")
}

#[test]
fn unknown_or_missing_client_is_a_page_s3() {
    let fx = fixture();
    let anon = client();
    for (what, p) in [
        (
            "missing",
            vec![("response_type", "code"), ("redirect_uri", CB)],
        ),
        (
            "empty",
            vec![
                ("client_id", ""),
                ("response_type", "code"),
                ("redirect_uri", CB),
            ],
        ),
        (
            "unknown",
            vec![
                ("client_id", "no-such-client"),
                ("response_type", "code"),
                ("redirect_uri", CB),
            ],
        ),
    ] {
        let body = assert_page(
            anon.get(authorize_url(&fx.srv, &p)).send().expect("get"),
            what,
        );
        assert!(
            body.contains("client_id") || body.contains("integration"),
            "{what}: says what is wrong"
        );
    }
    // Logged in, the same.
    let c = logged_in(&fx.srv, "ada@example.com");
    assert_page(
        c.get(authorize_url(&fx.srv, &[("client_id", "nope")]))
            .send()
            .expect("get"),
        "logged in",
    );
}

#[test]
fn unregistered_redirect_is_a_page_even_with_other_errors_s4() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let anon = client();
    let r = anon
        .get(authorize_url(
            &fx.srv,
            &[
                ("client_id", id),
                ("redirect_uri", "https://evil.example/cb"),
                ("response_type", "token"),
                ("scope", "bogus"),
            ],
        ))
        .send()
        .expect("get");
    let body = assert_page(r, "unregistered + bad response_type");
    assert!(body.contains("not registered"));
    let c = logged_in(&fx.srv, "ada@example.com");
    assert_page(
        c.get(authorize_url(
            &fx.srv,
            &base(id, &[("redirect_uri", "https://evil.example/cb")]),
        ))
        .send()
        .expect("get"),
        "logged in",
    );
}

#[test]
fn near_miss_redirect_uris_are_refused_s5() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let c = logged_in(&fx.srv, "ada@example.com");
    for miss in [
        "https://partner.example/cb/",
        "https://PARTNER.example/cb",
        "https://partner.example:443/cb",
        "http://partner.example/cb",
        "https://partner.example/cb?x=1",
        "https://partner.example/cb#frag",
        "https://partner.example/cb2",
        "https://partner.example/x/../cb",
        "https://partner.example/%2e%2e/cb",
        "https://partner.example/cb%0d%0aSet-Cookie:x=1",
        "https://partner.example@evil.example/cb",
        "https://evil.partner.example/cb",
        "https://partner.example/%2563b",
        "https%3A%2F%2Fpartner.example%2Fcb",
        "https://partner.example/CB",
    ] {
        let r = c
            .get(authorize_url(&fx.srv, &base(id, &[("redirect_uri", miss)])))
            .send()
            .expect("get");
        assert_page(r, miss);
    }
}

#[test]
fn loopback_redirect_varies_only_the_port_s6() {
    let fx = fixture();
    let id = fx.public.integration.client_id.as_str();
    let c = logged_in(&fx.srv, "ada@example.com");
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for ok in [
        "http://127.0.0.1/cb",
        "http://127.0.0.1:5173/cb",
        "http://127.0.0.1:49152/cb",
    ] {
        let mut p = base(id, &pkce);
        p.retain(|(k, _)| *k != "redirect_uri");
        p.push(("redirect_uri", ok));
        let r = c.get(authorize_url(&fx.srv, &p)).send().expect("get");
        assert_eq!(r.status(), 200, "{ok}");
    }
    for bad in [
        "http://127.0.0.1:5173/cb2",
        "http://localhost:5173/cb",
        "https://127.0.0.1:5173/cb",
        "http://127.0.0.2:5173/cb",
        "http://127.0.0.1:5173/cb?x",
    ] {
        let mut p = base(id, &pkce);
        p.retain(|(k, _)| *k != "redirect_uri");
        p.push(("redirect_uri", bad));
        assert_page(c.get(authorize_url(&fx.srv, &p)).send().expect("get"), bad);
    }
    // The code goes back to the port that was sent.
    let mut p = base(id, &pkce);
    p.retain(|(k, _)| *k != "redirect_uri");
    p.push(("redirect_uri", "http://127.0.0.1:5173/cb"));
    let page = consent_page(&fx, &c, &p);
    let r = answer(&fx, &c, &page, "allow", &[]);
    assert!(
        location(&r).starts_with("http://127.0.0.1:5173/cb?code="),
        "{}",
        location(&r)
    );
}

#[test]
fn missing_redirect_uri_needs_exactly_one_registered_s7() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let multi = fx.multi.integration.client_id.as_str();
    let mut p = base(multi, &[]);
    p.retain(|(k, _)| *k != "redirect_uri");
    assert_page(
        c.get(authorize_url(&fx.srv, &p)).send().expect("get"),
        "two registered, none sent",
    );
    let conf = fx.conf.integration.client_id.as_str();
    let mut p = base(conf, &[]);
    p.retain(|(k, _)| *k != "redirect_uri");
    let page = consent_page(&fx, &c, &p);
    let r = answer(&fx, &c, &page, "allow", &[]);
    assert!(location(&r).starts_with(&format!("{CB}?code=")));
}

#[test]
fn registered_query_is_kept_and_params_added_once_s8() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let id = fx.query.integration.client_id.as_str();
    let page = consent_page(
        &fx,
        &c,
        &base(id, &[("redirect_uri", "https://q.example/cb?x=1&y=%2F")]),
    );
    let r = answer(&fx, &c, &page, "allow", &[]);
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    assert!(loc.starts_with("https://q.example/cb?x=1&y=%2F&"), "{loc}");
    let q = query_of(&loc);
    for k in ["code", "state", "iss"] {
        assert_eq!(
            q.iter().filter(|(n, _)| n == k).count(),
            1,
            "{k} once: {loc}"
        );
    }
    assert_eq!(q.iter().filter(|(n, _)| n == "x").count(), 1);
}

#[test]
fn success_returns_code_state_byte_exact_and_iss_s10_s14() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let id = fx.conf.integration.client_id.as_str();
    let long = "s".repeat(500);
    for state in [
        "with spaces here",
        "a+b+c",
        "a%2Fb",
        "\"quoted\" 'and' <tags>",
        long.as_str(),
        "ünïcødé/?&=",
    ] {
        let page = consent_page(&fx, &c, &base(id, &[("state", state)]));
        let r = answer(&fx, &c, &page, "allow", &[fx.eng.id.as_str()]);
        assert_eq!(r.status(), 303, "never 302/307/308");
        let p = params(&location(&r));
        assert_eq!(p.get("state").map(String::as_str), Some(state));
        assert_eq!(p.get("iss"), Some(&fx.srv.config.server.issuer));
        assert_eq!(p.get("code").map(|c| c.len()), Some(43), "a 256-bit code");
    }
    // No state sent: none returned.
    let mut no_state = base(id, &[]);
    no_state.retain(|(k, _)| *k != "state");
    let page = consent_page(&fx, &c, &no_state);
    let p = params(&location(&answer(&fx, &c, &page, "allow", &[])));
    assert!(p.contains_key("code") && !p.contains_key("state"));
}

#[test]
fn cancel_is_access_denied_without_code_s11() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let id = fx.conf.integration.client_id.as_str();
    let page = consent_page(&fx, &c, &base(id, &[("state", "st 1")]));
    let r = answer(&fx, &c, &page, "deny", &[fx.eng.id.as_str()]);
    assert_error_redirect(&fx.srv, &r, CB, "access_denied", Some("st 1"), "cancel");
    assert_eq!(connection_count(&fx), 0, "Cancel shares nothing");
    assert_eq!(fx.srv.count("authorization_codes"), 0);
}

#[test]
fn bad_parameters_redirect_with_rfc_errors_s12() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    // Logged out or in, the same answers: validation comes first.
    for c in [client(), logged_in(&fx.srv, "ada@example.com")] {
        let mut missing = base(id, &[]);
        missing.retain(|(k, _)| *k != "response_type");
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (missing, "invalid_request"),
            (
                base(id, &[("response_type", "token")]),
                "unsupported_response_type",
            ),
            (
                base(id, &[("response_type", "foo")]),
                "unsupported_response_type",
            ),
            (base(id, &[("scope", "read_everything")]), "invalid_scope"),
            (
                base(id, &[("scope", "read_content insert_comments")]),
                "invalid_scope",
            ),
            (base(id, &[("owner", "workspace")]), "invalid_request"),
        ];
        for (p, error) in cases {
            let r = c.get(authorize_url(&fx.srv, &p)).send().expect("get");
            assert_error_redirect(&fx.srv, &r, CB, error, Some("xyz"), &format!("{p:?}"));
        }
    }
    // A scope inside the capabilities is granted as asked.
    let c = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(&fx, &c, &base(id, &[("scope", "read_content")]));
    assert!(page.contains("Read content") && !page.contains("Update content"));
}

#[test]
fn duplicated_parameters_s13() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let c = logged_in(&fx.srv, "ada@example.com");
    let mut p = base(id, &[]);
    p.push(("response_type", "code"));
    let r = c.get(authorize_url(&fx.srv, &p)).send().expect("get");
    assert_error_redirect(
        &fx.srv,
        &r,
        CB,
        "invalid_request",
        Some("xyz"),
        "dup response_type",
    );
    let mut p = base(id, &[]);
    p.push(("scope", "read_content"));
    p.push(("scope", "read_content"));
    let r = c.get(authorize_url(&fx.srv, &p)).send().expect("get");
    assert_error_redirect(&fx.srv, &r, CB, "invalid_request", Some("xyz"), "dup scope");
    let mut p = base(id, &[]);
    p.push(("client_id", id));
    assert_page(
        c.get(authorize_url(&fx.srv, &p)).send().expect("get"),
        "dup client_id",
    );
    let mut p = base(id, &[]);
    p.push(("redirect_uri", CB));
    assert_page(
        c.get(authorize_url(&fx.srv, &p)).send().expect("get"),
        "dup redirect_uri",
    );
    // Unknown parameters are ignored.
    let r = c
        .get(authorize_url(
            &fx.srv,
            &base(id, &[("utm_source", "x"), ("prompt", "consent")]),
        ))
        .send()
        .expect("get");
    assert_eq!(r.status(), 200);
}

#[test]
fn no_cors_headers_on_authorize_s15() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let c = logged_in(&fx.srv, "ada@example.com");
    for p in [
        base(id, &[]),
        base(id, &[("response_type", "token")]),
        vec![("client_id", "nope")],
    ] {
        let r = c
            .get(authorize_url(&fx.srv, &p))
            .header("Origin", "https://evil.example")
            .send()
            .expect("get");
        for (name, _) in r.headers() {
            assert!(!name.as_str().starts_with("access-control-"), "{name}");
        }
    }
    let r = c
        .request(reqwest::Method::OPTIONS, fx.srv.url("/v1/oauth/authorize"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .expect("options");
    assert!(r
        .headers()
        .keys()
        .all(|n| !n.as_str().starts_with("access-control-")));
}

#[test]
fn public_client_without_pkce_is_refused_s16() {
    let fx = fixture();
    let id = fx.public.integration.client_id.as_str();
    let c = logged_in(&fx.srv, "ada@example.com");
    let p = vec![
        ("client_id", id),
        ("response_type", "code"),
        ("redirect_uri", "http://127.0.0.1:9000/cb"),
        ("state", "s"),
    ];
    let r = c.get(authorize_url(&fx.srv, &p)).send().expect("get");
    assert_error_redirect(
        &fx.srv,
        &r,
        "http://127.0.0.1:9000/cb",
        "invalid_request",
        Some("s"),
        "no PKCE",
    );
    assert_eq!(fx.srv.count("authorization_codes"), 0);
}

#[test]
fn bad_pkce_parameters_are_invalid_request_s17() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let c = logged_in(&fx.srv, "ada@example.com");
    let c42 = "a".repeat(42);
    let c129 = "a".repeat(129);
    let bad_char = format!("{}+", "a".repeat(43));
    let spaced = format!("{} b", "a".repeat(43));
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge", CHALLENGE)],
        vec![
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S512"),
        ],
        vec![
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "s256"),
        ],
        vec![("code_challenge_method", "S256")],
        vec![
            ("code_challenge", c42.as_str()),
            ("code_challenge_method", "S256"),
        ],
        vec![
            ("code_challenge", c129.as_str()),
            ("code_challenge_method", "S256"),
        ],
        vec![
            ("code_challenge", bad_char.as_str()),
            ("code_challenge_method", "S256"),
        ],
        vec![
            ("code_challenge", spaced.as_str()),
            ("code_challenge_method", "S256"),
        ],
        vec![("code_challenge", ""), ("code_challenge_method", "S256")],
    ];
    for extra in cases {
        let r = c
            .get(authorize_url(&fx.srv, &base(id, &extra)))
            .send()
            .expect("get");
        assert_error_redirect(
            &fx.srv,
            &r,
            CB,
            "invalid_request",
            Some("xyz"),
            &format!("{extra:?}"),
        );
    }
    // A good challenge on a confidential client is accepted and bound to the code.
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
    assert_eq!(answer(&fx, &c, &page, "allow", &[]).status(), 303);
}

#[test]
fn login_first_then_back_to_the_same_request() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let c = client();
    let url = authorize_url(
        &fx.srv,
        &base(
            id,
            &[
                ("state", "a b+c"),
                ("workspace_id", fx.notebook.id.as_str()),
            ],
        ),
    );
    let r = c.get(&url).send().expect("get");
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/login?next="), "{to}");
    let (_, login_page) = get_html(&c, &fx.srv.url(&to));
    let next = input_value(&login_page, "next").expect("next");
    assert_eq!(fx.srv.url(&next), url, "the full query survives");
    let r = login(&fx.srv, &c, "ada@example.com", PASSWORD, Some(&next));
    assert_eq!(location(&r), next);
    let page = consent_page(
        &fx,
        &c,
        &base(
            id,
            &[
                ("state", "a b+c"),
                ("workspace_id", fx.notebook.id.as_str()),
            ],
        ),
    );
    assert!(page.contains("Ada Notebook"));
}

#[test]
fn consent_shows_integration_developer_host_and_capabilities() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(&fx, &c, &base(&fx.conf.integration.client_id, &[]));
    assert!(
        page.contains("Partner &#60;b&#62;App&#60;/b&#62;")
            || page.contains("Partner &lt;b&gt;App&lt;/b&gt;"),
        "name, escaped (S49)"
    );
    assert!(!page.contains("<b>App</b>"));
    assert!(page.contains("Labs"), "developer");
    assert!(page.contains("partner.example"), "redirect host");
    for words in [
        "Read content",
        "Update content",
        "Read user information including email addresses",
    ] {
        assert!(page.contains(words), "{words}");
    }
    for label in [">Select pages<", ">Allow access<", ">Cancel<"] {
        assert!(page.contains(label), "{label}");
    }
}

#[test]
fn switcher_lists_my_workspaces_and_keeps_the_request() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.as_str();
    let g = logged_in(&fx.srv, "grace@example.com");
    let page = consent_page(&fx, &g, &base(id, &[("state", "keep me")]));
    assert_eq!(
        page.matches("role=\"menuitem\"").count(),
        1,
        "Grace is in Acme only"
    );
    let a = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(&fx, &a, &base(id, &[("state", "keep me")]));
    assert_eq!(page.matches("role=\"menuitem\"").count(), 2);
    // The switcher's link to the notebook keeps every parameter.
    let marker = format!("workspace_id={}", fx.notebook.id);
    let href = links(&page)
        .into_iter()
        .find(|h| h.contains(&marker))
        .expect("notebook link");
    let href = &href[..href.find(&marker).expect("marker") + marker.len()];
    let r = a.get(fx.srv.url(href)).send().expect("switch");
    assert_eq!(r.status(), 200);
    let switched = r.text().expect("body");
    assert!(switched.contains("wants to access Ada Notebook"));
    assert!(switched.contains("Recipes") && !switched.contains("Engineering"));
    let r = answer(&fx, &a, &switched, "allow", &[fx.notebook_page.id.as_str()]);
    assert_eq!(
        params(&location(&r)).get("state").map(String::as_str),
        Some("keep me")
    );
    // A workspace_id one is not in is an error page.
    let r = g
        .get(authorize_url(
            &fx.srv,
            &base(id, &[("workspace_id", fx.notebook.id.as_str())]),
        ))
        .send()
        .expect("get");
    assert_eq!(r.status(), 403);
    assert!(r.text().expect("body").contains("not a member"));
}

#[test]
fn picker_lists_only_visible_pages() {
    let fx = fixture();
    let g = logged_in(&fx.srv, "grace@example.com");
    let page = consent_page(&fx, &g, &base(&fx.conf.integration.client_id, &[]));
    assert!(page.contains("Engineering") && page.contains("Roadmap"));
    assert!(page.contains("Grace Scratch Quokka"), "own private page");
    assert!(!page.contains("Ada Secret Zebra"), "another's private page");
    assert!(checked(&page, "page", fx.roadmap.id.as_str()).is_some());
}

#[test]
fn allow_writes_connection_pages_audit_and_a_single_use_code() {
    let fx = fixture();
    let g = logged_in(&fx.srv, "grace@example.com");
    let page = consent_page(&fx, &g, &base(&fx.conf.integration.client_id, &[]));
    let r = answer(
        &fx,
        &g,
        &page,
        "allow",
        &[fx.eng.id.as_str(), fx.grace_private.id.as_str()],
    );
    let code = code_of(&r);
    let mut conn = fx.srv.conn();
    use pagegrant::db::queries::connections;
    let c = connections::find_installed(
        &mut conn,
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("query")
    .expect("connection");
    assert_eq!(c.status.as_str(), "active");
    let mut shared = connections::page_ids(&mut conn, &c.id).expect("pages");
    shared.sort();
    let mut want = vec![fx.eng.id.clone(), fx.grace_private.id.clone()];
    want.sort();
    assert_eq!(shared, want);
    let events =
        pagegrant::db::queries::audit::for_workspace(&mut conn, &fx.acme.id).expect("audit");
    assert!(events
        .iter()
        .any(|e| e.action == "connection.granted" && e.target == c.id.to_string()));
    // The stored grant: hashed, bound, redeemable once.
    let row = pagegrant::db::queries::oauth::code_by_hash(
        &mut conn,
        &pagegrant::crypto::sha256_hex(&code),
    )
    .expect("query")
    .expect("stored by hash");
    assert_eq!(row.connection_id, c.id);
    assert_eq!(row.redirect_uri.as_deref(), Some(CB));
    assert!(row.expires_at - row.created_at <= 600);
    // Not yet redeemed: the token endpoint redeems it once (S31, tests/it/token.rs).
    assert!(row.consumed_at.is_none());
}

#[test]
fn forged_page_ids_share_nothing() {
    let fx = fixture();
    let g = logged_in(&fx.srv, "grace@example.com");
    let id = fx.conf.integration.client_id.clone();
    let page = consent_page(&fx, &g, &base(&id, &[]));
    for forged in [
        fx.ada_private.id.as_str(),
        fx.notebook_page.id.as_str(),
        "00000000-0000-4000-8000-000000000000",
        "not-an-id",
    ] {
        let r = answer(&fx, &g, &page, "allow", &[fx.eng.id.as_str(), forged]);
        assert_eq!(r.status(), 400, "{forged}");
        assert!(r.headers().get("location").is_none());
        assert_eq!(connection_count(&fx), 0, "{forged}: nothing shared");
        assert_eq!(fx.srv.count("connection_pages"), 0);
    }
    // The pending request is still usable with honest input.
    let r = answer(&fx, &g, &page, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    assert_eq!(fx.srv.count("connection_pages"), 1);
}

#[test]
fn consent_post_csrf_is_bound_to_session_and_request_s47() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.clone();
    let a = logged_in(&fx.srv, "ada@example.com");
    let page1 = consent_page(&fx, &a, &base(&id, &[("state", "one")]));
    let page2 = consent_page(&fx, &a, &base(&id, &[("state", "two")]));
    let post = |c: &Client, request_id: &str, token: Option<&str>| {
        let mut form = vec![
            ("request_id", request_id.to_string()),
            ("decision", "allow".to_string()),
        ];
        if let Some(t) = token {
            form.push(("csrf", t.to_string()));
        }
        c.post(fx.srv.url("/v1/oauth/authorize"))
            .form(&form)
            .send()
            .expect("post")
    };
    let (rid1, tok1) = (
        input_value(&page1, "request_id").expect("id"),
        input_value(&page1, "csrf").expect("csrf"),
    );
    let tok2 = input_value(&page2, "csrf").expect("csrf");
    assert_eq!(post(&a, &rid1, None).status(), 403, "no token");
    assert_eq!(post(&a, &rid1, Some("")).status(), 403, "empty token");
    assert_eq!(
        post(&a, &rid1, Some(&tok2)).status(),
        403,
        "another pending request's token"
    );
    // Another session (Grace) replaying Ada's request and token.
    let g = logged_in(&fx.srv, "grace@example.com");
    assert_eq!(
        post(&g, &rid1, Some(&tok1)).status(),
        403,
        "another session"
    );
    // A cross-site post with the right token.
    let r = a
        .post(fx.srv.url("/v1/oauth/authorize"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("request_id", rid1.as_str()),
            ("csrf", tok1.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403, "cross-site");
    assert_eq!(
        fx.srv.count("authorization_codes"),
        0,
        "no code from any of them"
    );
    // The right one still works after.
    let r = post(&a, &rid1, Some(&tok1));
    assert_eq!(r.status(), 303);
    assert_eq!(
        params(&location(&r)).get("state").map(String::as_str),
        Some("one")
    );
}

#[test]
fn approval_is_single_use_and_never_by_get_s48() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.clone();
    let a = logged_in(&fx.srv, "ada@example.com");
    // GET never grants, whatever it carries.
    let page = consent_page(&fx, &a, &base(&id, &[("decision", "allow")]));
    assert_eq!(fx.srv.count("authorization_codes"), 0);
    let r = a
        .get(fx.srv.url(&format!(
            "/v1/oauth/authorize?request_id={}&csrf={}&decision=allow",
            input_value(&page, "request_id").expect("id"),
            input_value(&page, "csrf").expect("csrf")
        )))
        .send()
        .expect("get");
    assert_eq!(r.status(), 400, "a GET without client_id is an error page");
    assert_eq!(fx.srv.count("authorization_codes"), 0);
    // Two tabs, two pending requests: both work.
    let tab1 = consent_page(&fx, &a, &base(&id, &[("state", "tab1")]));
    let tab2 = consent_page(&fx, &a, &base(&id, &[("state", "tab2")]));
    let r2 = answer(&fx, &a, &tab2, "allow", &[]);
    let r1 = answer(&fx, &a, &tab1, "allow", &[]);
    assert_eq!(
        params(&location(&r1)).get("state").map(String::as_str),
        Some("tab1")
    );
    assert_eq!(
        params(&location(&r2)).get("state").map(String::as_str),
        Some("tab2")
    );
    // Replaying an answered POST yields no second code.
    assert_eq!(answer(&fx, &a, &tab1, "allow", &[]).status(), 403);
    assert_eq!(answer(&fx, &a, &tab1, "deny", &[]).status(), 403);
    assert_eq!(fx.srv.count("authorization_codes"), 2);
}

#[test]
fn reflected_text_is_escaped_and_crlf_in_state_stays_in_one_header_s49() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.clone();
    let a = logged_in(&fx.srv, "ada@example.com");
    let evil = "x\r\nSet-Cookie: evil=1\r\nLocation: https://evil.example";
    let r = a
        .get(authorize_url(
            &fx.srv,
            &base(&id, &[("state", evil), ("response_type", "token")]),
        ))
        .send()
        .expect("get");
    assert_eq!(r.headers().get_all("location").iter().count(), 1);
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(
        params(&location(&r)).get("state").map(String::as_str),
        Some(evil)
    );
    let page = consent_page(&fx, &a, &base(&id, &[("state", evil)]));
    let r = answer(&fx, &a, &page, "allow", &[]);
    assert_eq!(r.headers().get_all("location").iter().count(), 1);
    assert_eq!(
        params(&location(&r)).get("state").map(String::as_str),
        Some(evil)
    );
    // Error pages escape what they are given.
    let body = assert_page(
        a.get(authorize_url(
            &fx.srv,
            &[("client_id", "<script>alert(1)</script>")],
        ))
        .send()
        .expect("get"),
        "xss",
    );
    assert!(!body.contains("<script>alert(1)</script>"));
}

#[test]
fn consent_and_error_pages_send_security_headers_s45_s46() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    for r in [
        a.get(authorize_url(
            &fx.srv,
            &base(&fx.conf.integration.client_id, &[]),
        ))
        .send()
        .expect("consent"),
        a.get(authorize_url(&fx.srv, &[("client_id", "nope")]))
            .send()
            .expect("error"),
    ] {
        let h = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(h("x-frame-options"), "DENY");
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(h("cache-control"), "no-store");
        assert_eq!(h("referrer-policy"), "no-referrer");
    }
}

fn set_policy(fx: &Fx, policy: &str, auto: bool) {
    pagegrant::db::queries::workspaces::set_install_policy(
        &mut fx.srv.conn(),
        &fx.acme.id,
        pagegrant::db::models::InstallPolicy::parse(policy).expect("policy name"),
        auto,
    )
    .expect("policy");
}

#[test]
fn install_policy_owner_member_approved_first_party() {
    let fx = fixture();
    set_policy(&fx, "approved_only", false);
    let conf = fx.conf.integration.client_id.clone();
    let first = fx.first.integration.client_id.clone();
    let first_cb = [("redirect_uri", "https://github.example/cb")];
    let g = logged_in(&fx.srv, "grace@example.com");
    let a = logged_in(&fx.srv, "ada@example.com");

    // Owners may always install.
    let page = consent_page(&fx, &a, &base(&conf, &[]));
    assert!(!page.contains("disabled"));
    assert_eq!(answer(&fx, &a, &page, "allow", &[]).status(), 303);

    // A member is blocked for an unapproved integration: told why, offered
    // Request approval instead of Allow access (issue 27 item 3), forced POST refused.
    let page = consent_page(&fx, &g, &base(&conf, &[]));
    assert!(page.contains("approved list"), "says why");
    assert!(page.contains(">Request approval<") && !page.contains("value=\"allow\""));
    let r = answer(&fx, &g, &page, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("location").is_none());
    let codes = fx.srv.count("authorization_codes");
    // Cancel still works for a blocked member.
    assert_eq!(answer(&fx, &g, &page, "deny", &[]).status(), 303);

    // Approved: allowed.
    pagegrant::db::queries::connections::approve(
        &mut fx.srv.conn(),
        &fx.acme.id,
        &fx.conf.integration.id,
        &fx.ada.id,
        0,
    )
    .expect("approve");
    let page = consent_page(&fx, &g, &base(&conf, &[]));
    assert!(!page.contains("approved list"));
    assert_eq!(answer(&fx, &g, &page, "allow", &[]).status(), 303);
    assert_eq!(fx.srv.count("authorization_codes"), codes + 1);

    // First-party: blocked until auto-approve is on.
    let page = consent_page(&fx, &g, &base(&first, &first_cb));
    assert!(page.contains("approved list"));
    assert_eq!(answer(&fx, &g, &page, "allow", &[]).status(), 403);
    set_policy(&fx, "approved_only", true);
    let page = consent_page(&fx, &g, &base(&first, &first_cb));
    assert_eq!(answer(&fx, &g, &page, "allow", &[]).status(), 303);
    // Auto-approve does not cover third-party integrations.
    let multi = fx.multi.integration.client_id.clone();
    let page = consent_page(
        &fx,
        &g,
        &base(&multi, &[("redirect_uri", "https://multi.example/cb")]),
    );
    assert!(page.contains("approved list"));

    // Outside Enterprise the restriction does not apply; "open" lets members in.
    set_policy(&fx, "open", false);
    let page = consent_page(
        &fx,
        &g,
        &base(&multi, &[("redirect_uri", "https://multi.example/cb")]),
    );
    assert_eq!(answer(&fx, &g, &page, "allow", &[]).status(), 303);
}

#[test]
fn reconsent_reuses_and_reactivates_the_connection_with_its_bot_id() {
    let fx = fixture();
    let id = fx.conf.integration.client_id.clone();
    let g = logged_in(&fx.srv, "grace@example.com");
    let page = consent_page(&fx, &g, &base(&id, &[]));
    answer(&fx, &g, &page, "allow", &[fx.eng.id.as_str()]);
    use pagegrant::db::queries::connections;
    let first = connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("conn");
    connections::mark_revoked(&mut fx.srv.conn(), &first.id, Some(&fx.ada.id), 1).expect("revoke");
    // A revoked connection is not a reconnect: its pages are not pre-checked
    // (issue 25: one press of Allow access would re-share what was cut off).
    let page = consent_page(&fx, &g, &base(&id, &[]));
    assert_eq!(checked(&page, "page", fx.eng.id.as_str()), Some(false));
    assert_eq!(checked(&page, "page", fx.roadmap.id.as_str()), Some(false));
    let r = answer(&fx, &g, &page, "allow", &[fx.roadmap.id.as_str()]);
    assert_eq!(r.status(), 303);
    let again = connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("conn");
    assert_eq!(again.id, first.id);
    assert_eq!(again.bot_id, first.bot_id);
    assert_eq!(again.status.as_str(), "active");
    assert!(again.revoked_at.is_none());
    assert_eq!(
        connections::page_ids(&mut fx.srv.conn(), &again.id).expect("pages"),
        vec![fx.roadmap.id.clone()]
    );
    assert_eq!(connection_count(&fx), 1);
}

#[test]
fn internal_integrations_cannot_use_oauth() {
    let fx = fixture();
    let internal = integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        NewIntegration {
            name: "Bot".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            ..Default::default()
        },
    )
    .expect("internal");
    let a = logged_in(&fx.srv, "ada@example.com");
    let body = assert_page(
        a.get(authorize_url(
            &fx.srv,
            &[
                ("client_id", internal.integration.client_id.as_str()),
                ("response_type", "code"),
            ],
        ))
        .send()
        .expect("get"),
        "internal",
    );
    assert!(body.contains("internal integration"));
}

#[test]
fn fixture_challenge_is_the_s256_of_the_verifier() {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(VERIFIER.as_bytes());
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
        CHALLENGE
    );
}
