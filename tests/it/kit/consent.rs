//! Logging in, the authorization request, the consent page and its answer,
//! and whole connections (consent then code exchange).

use std::collections::HashMap;

use pagegrant::db::models::Page;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

use super::html::input_value;
use super::server::{bare_client, client, get_html, location, TestServer};
use super::world::Fx;
use super::{CB, CHALLENGE, PASSWORD};

/// Loads the login page and posts the form; returns the POST's response.
pub fn login(
    srv: &TestServer,
    c: &Client,
    email: &str,
    password: &str,
    next: Option<&str>,
) -> Response {
    let page = c
        .get(srv.url("/login"))
        .send()
        .expect("login page")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf field");
    let mut form = vec![
        ("csrf", csrf),
        ("email", email.to_string()),
        ("password", password.to_string()),
    ];
    if let Some(n) = next {
        form.push(("next", n.to_string()));
    }
    c.post(srv.url("/login"))
        .form(&form)
        .send()
        .expect("login post")
}

/// Logs in and panics unless it worked.
pub fn logged_in(srv: &TestServer, email: &str) -> Client {
    logged_in_with(srv, email, PASSWORD)
}

pub fn logged_in_with(srv: &TestServer, email: &str, password: &str) -> Client {
    let c = client();
    let r = login(srv, &c, email, password, None);
    assert_eq!(r.status(), 303, "login of {email} failed");
    c
}

pub fn authorize_url(srv: &TestServer, params: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    srv.url(&format!("/v1/oauth/authorize?{}", ser.finish()))
}

/// An authorization request of public client `client_id` on `redirect` in
/// workspace `ws`, with RFC 7636's S256 challenge and a state.
pub fn pkce_request<'a>(
    client_id: &'a str,
    redirect: &'a str,
    ws: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("workspace_id", ws),
    ]
}

/// `GET /v1/oauth/authorize` with these parameters, as client `c`.
pub fn authorize_get(c: &Client, fx: &Fx, p: &[(&str, &str)]) -> Response {
    c.get(authorize_url(&fx.srv, p)).send().expect("authorize")
}

/// The usual good request for `who`, plus `extra`.
pub fn base<'a>(client_id: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("owner", "user"),
        ("redirect_uri", CB),
        ("state", "xyz"),
    ];
    for (k, val) in extra {
        v.retain(|(n, _)| n != k);
        v.push((k, val));
    }
    v
}

/// The code of a consent answer's redirect.
pub fn code_of(r: &Response) -> String {
    params(&location(r)).get("code").cloned().expect("code")
}

pub fn query_of(location: &str) -> Vec<(String, String)> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

pub fn params(location: &str) -> HashMap<String, String> {
    query_of(location).into_iter().collect()
}

/// The consent page for `params`, for a logged-in client.
pub fn consent_page(fx: &Fx, c: &Client, params: &[(&str, &str)]) -> String {
    let r = c
        .get(authorize_url(&fx.srv, params))
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 200, "consent page");
    r.text().expect("body")
}

/// Posts the consent form of `page` with the given pages ticked.
pub fn answer(fx: &Fx, c: &Client, page: &str, decision: &str, pages: &[&str]) -> Response {
    let mut form = vec![
        (
            "request_id".to_string(),
            input_value(page, "request_id").expect("request_id"),
        ),
        ("csrf".to_string(), input_value(page, "csrf").expect("csrf")),
        ("decision".to_string(), decision.to_string()),
    ];
    for p in pages {
        form.push(("page".into(), p.to_string()));
    }
    c.post(fx.srv.url("/v1/oauth/authorize"))
        .form(&form)
        .send()
        .expect("post")
}

/// Connects `email` through the consent flow, sharing `pages`, in `workspace`.
pub fn connect(fx: &Fx, email: &str, workspace: &str, pages: &[&Page]) -> Value {
    connect_with(fx, &fx.conf, email, workspace, pages)
}

/// The consent flow for `client` as `email` in `workspace` with `pages`
/// ticked, then the code exchanged: the token response.
pub fn connect_with(
    fx: &Fx,
    client: &pagegrant::domain::integrations::Created,
    email: &str,
    workspace: &str,
    pages: &[&Page],
) -> Value {
    let c = logged_in(&fx.srv, email);
    let id = client.integration.client_id.clone();
    let url = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&workspace_id={workspace}",
        fx.srv.base,
        pagegrant::http::errors::url_encode(&id),
        pagegrant::http::errors::url_encode(CB)
    );
    let page = c.get(url).send().expect("consent").text().expect("body");
    let mut form = vec![
        (
            "request_id".to_string(),
            input_value(&page, "request_id").expect("id"),
        ),
        (
            "csrf".to_string(),
            input_value(&page, "csrf").expect("csrf"),
        ),
        ("decision".to_string(), "allow".to_string()),
    ];
    for p in pages {
        form.push(("page".into(), p.id.to_string()));
    }
    let r = c
        .post(fx.srv.url("/v1/oauth/authorize"))
        .form(&form)
        .send()
        .expect("allow");
    let code = code_of(&r);
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/token"))
        .basic_auth(&id, client.client_secret.as_deref())
        .json(&json!({"grant_type": "authorization_code", "code": code, "redirect_uri": CB}))
        .send()
        .expect("token");
    assert_eq!(r.status(), 200);
    r.json().expect("json")
}

/// The CSRF token of Acme's workspace page, for its settings forms.
pub fn csrf_of(fx: &Fx, c: &Client) -> String {
    let (_, page) = get_html(c, &fx.srv.url(&format!("/w/{}", fx.acme.id)));
    input_value(&page, "csrf").expect("csrf")
}
