//! `/demo/partner`: the built-in partner site runs the whole flow.

use crate::kit::*;

#[test]
fn demo_partner_tour_end_to_end() {
    let srv = TestServer::start_demo();
    let c = client();
    let (status, landing) = get_html(&c, &srv.url("/demo/partner"));
    assert_eq!(status, 200);
    assert!(landing.contains("Connect pagegrant"));
    let r = c.get(srv.url("/demo/partner/start")).send().expect("start");
    assert_eq!(r.status(), 303);
    let authorize = location(&r);
    assert!(authorize.starts_with(&format!("{}/v1/oauth/authorize?", srv.config.server.issuer)));
    let p = params(&authorize);
    assert_eq!(
        p.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(
        p.get("redirect_uri"),
        Some(&format!(
            "{}/demo/partner/callback",
            srv.config.server.issuer
        ))
    );
    // Log in on the way.
    let r = c.get(&authorize).send().expect("authorize");
    let to = location(&r);
    let (_, login_page) = get_html(&c, &srv.url(&to));
    let next = input_value(&login_page, "next").expect("next");
    let r = login(
        &srv,
        &c,
        "grace@example.com",
        pagegrant::domain::demo::DEMO_PASSWORD,
        Some(&next),
    );
    let (status, consent) = get_html(&c, &srv.url(&location(&r)));
    assert_eq!(status, 200);
    assert!(consent.contains("Demo Partner wants to access Acme Corp"));
    let eng = input_value(&consent, "page").expect("a page");
    let form = [
        (
            "request_id",
            input_value(&consent, "request_id").expect("id"),
        ),
        ("csrf", input_value(&consent, "csrf").expect("csrf")),
        ("decision", "allow".to_string()),
        ("page", eng),
    ];
    let r = c
        .post(srv.url("/v1/oauth/authorize"))
        .form(&form)
        .send()
        .expect("allow");
    let callback = location(&r);
    assert!(callback.starts_with(&format!(
        "{}/demo/partner/callback?code=",
        srv.config.server.issuer
    )));
    let (status, done) = get_html(&c, &callback);
    assert_eq!(status, 200);
    let done = html_unescape(&done);
    assert!(done.contains("<h1>Connected</h1>"), "{done}");
    assert!(done.contains("\"refresh_token\": \"nrt_"));
    assert!(done.contains("\"type\": \"bot\"") && done.contains("\"name\": \"Demo Partner\""));
    assert!(done.contains("grace@example.com"));
    let found = &done[done.find("class=\"found-pages\"").expect("pages list")..];
    assert!(found.contains("<li>"), "search shows the shared pages");
    // The same callback again: the partner's state is gone, so it refuses.
    let (_, again) = get_html(&c, &callback);
    assert!(again.contains("Not connected"));
}

#[test]
fn demo_partner_is_absent_without_the_demo_world() {
    let srv = TestServer::start();
    assert_eq!(
        client()
            .get(srv.url("/demo/partner"))
            .send()
            .expect("get")
            .status(),
        404
    );
    assert_eq!(
        client()
            .get(srv.url("/demo/partner/start"))
            .send()
            .expect("get")
            .status(),
        404
    );
}
