//! Security round 2 (issue 15), the page rules: private pages, trashed
//! ancestors and `has_children`, each pinned over HTTP.

use crate::kit::*;
use diesel::prelude::*;
use pagegrant::db::models::Role;
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn csrf(srv: &TestServer, c: &Client, ws: &str) -> String {
    let (_, page) = get_html(c, &srv.url(&format!("/w/{ws}")));
    input_value(&page, "csrf").expect("csrf")
}

fn api_get(srv: &TestServer, token: &str, path: &str) -> reqwest::blocking::Response {
    bare_client()
        .get(srv.url(path))
        .bearer_auth(token)
        .header("Notion-Version", "2025-09-03")
        .send()
        .expect("api")
}

fn search_titles(srv: &TestServer, token: &str) -> Vec<String> {
    let r: Value = bare_client()
        .post(srv.url("/v1/search"))
        .bearer_auth(token)
        .header("Notion-Version", "2025-09-03")
        .json(&json!({"page_size": 100}))
        .send()
        .expect("search")
        .json()
        .expect("json");
    r["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|p| {
            p["properties"]["title"]["title"][0]["plain_text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Creates an internal integration from Settings as `c` and returns its connection id.
fn create_internal(srv: &TestServer, c: &Client, ws: &str, name: &str) -> String {
    let token = csrf(srv, c, ws);
    let r = c
        .post(srv.url(&format!("/w/{ws}/settings/connections/internal")))
        .form(&[("csrf", token.as_str()), ("name", name)])
        .send()
        .expect("create");
    assert_eq!(r.status(), 303);
    // The redirect carries a one-time note, not the id: find it by name.
    use diesel::prelude::*;
    use pagegrant::db::schema::{connections as k, integrations as i};
    k::table
        .inner_join(i::table)
        .filter(i::name.eq(name))
        .select(k::id)
        .first::<pagegrant::db::models::ConnectionId>(&mut srv.conn())
        .expect("created id")
        .to_string()
}

fn share(srv: &TestServer, c: &Client, ws: &str, page: &str, connection: &str) -> u16 {
    let token = csrf(srv, c, ws);
    c.post(srv.url(&format!("/w/{ws}/p/{page}/connections/add")))
        .form(&[("csrf", token.as_str()), ("connection_id", connection)])
        .send()
        .expect("share")
        .status()
        .as_u16()
}

/// Presses **Copy internal integration token**: the status and the page.
fn copy_token(srv: &TestServer, c: &Client, ws: &str, connection: &str) -> (u16, String) {
    let token = csrf(srv, c, ws);
    let r = c
        .post(srv.url(&format!("/w/{ws}/settings/connections/{connection}/token")))
        .form(&[("csrf", token.as_str())])
        .send()
        .expect("token");
    (r.status().as_u16(), r.text().expect("body"))
}

fn token_in(page: &str) -> String {
    let start = page.find("ntn_").expect("token shown");
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

#[test]
fn private_pages_never_inherited_by_a_connection() {
    let fx = fixture();
    let srv = &fx.srv;
    let ws = fx.acme.id.to_string();
    let bob = srv.user("bob@example.com", "Bob");
    srv.member(&fx.acme, &bob, Role::Owner);
    let diary = srv.page(&fx.acme, &fx.ada, "Ada Diary Pelican", Some(&fx.eng), true);

    let ada = logged_in(srv, "ada@example.com");
    let cid = create_internal(srv, &ada, &ws, "Ada's bot");
    assert_eq!(share(srv, &ada, &ws, fx.eng.id.as_str(), &cid), 303);
    let (status, page) = copy_token(srv, &ada, &ws, &cid);
    assert_eq!(status, 200, "the installer copies her own token");
    let token = token_in(&page);

    // Sharing a workspace page does not carry a private sub-page along.
    assert_eq!(
        api_get(srv, &token, &format!("/v1/pages/{}", fx.roadmap.id)).status(),
        200
    );
    assert_eq!(
        api_get(srv, &token, &format!("/v1/pages/{}", diary.id)).status(),
        404
    );
    assert!(!search_titles(srv, &token)
        .iter()
        .any(|t| t.contains("Pelican")));
    // Nor does Bob, a co-owner, get anything private through that token.
    let bob_c = logged_in(srv, "bob@example.com");
    assert_eq!(copy_token(srv, &bob_c, &ws, &cid).0, 200);

    // Ada shares the private page itself: now it reaches her bot, through
    // a new token, since Bob holds a copy of the old one (issue 25, S70)...
    assert_eq!(share(srv, &ada, &ws, diary.id.as_str(), &cid), 303);
    assert_eq!(
        api_get(srv, &token, &format!("/v1/pages/{}", diary.id)).status(),
        401,
        "the token Bob copied is replaced"
    );
    let (status, page) = copy_token(srv, &ada, &ws, &cid);
    assert_eq!(status, 200);
    let token = token_in(&page);
    assert_eq!(
        api_get(srv, &token, &format!("/v1/pages/{}", diary.id)).status(),
        200
    );
    // ...so no one else may hold the token, and the menu says why.
    let (status, _) = copy_token(srv, &bob_c, &ws, &cid);
    assert_eq!(
        status, 403,
        "a co-owner cannot copy a token that reads Ada's private page"
    );
    let (_, settings) = get_html(&bob_c, &srv.url(&format!("/w/{ws}/settings/connections")));
    assert!(
        settings.contains("only they can copy its token"),
        "the menu says why"
    );
    assert_eq!(copy_token(srv, &ada, &ws, &cid).0, 200, "Ada still can");
}

#[test]
fn trashed_ancestors_trash_their_descendants_for_every_reader() {
    let fx = fixture();
    let srv = &fx.srv;
    let ws = fx.acme.id.to_string();
    let archive = srv.page(&fx.acme, &fx.ada, "Archive", None, false);
    let shared = srv.page(&fx.acme, &fx.ada, "Old plans", Some(&archive), false);
    let deep = srv.page(&fx.acme, &fx.ada, "Older plans", Some(&shared), false);
    let tokens = connect(&fx, "grace@example.com", &ws, &[&shared]);
    let token = tokens["access_token"].as_str().expect("token").to_string();
    assert_eq!(
        api_get(srv, &token, &format!("/v1/pages/{}", deep.id)).status(),
        200
    );

    // The archive, above the shared page, goes to the trash.
    {
        use pagegrant::db::schema::pages::dsl;
        diesel::update(dsl::pages.find(&archive.id))
            .set(dsl::in_trash.eq(true))
            .execute(&mut srv.conn())
            .expect("trash");
    }
    let page: Value = api_get(srv, &token, &format!("/v1/pages/{}", shared.id))
        .json()
        .expect("json");
    assert_eq!(page["in_trash"], json!(true), "{page}");
    let page: Value = api_get(srv, &token, &format!("/v1/pages/{}", deep.id))
        .json()
        .expect("json");
    assert_eq!(page["in_trash"], json!(true), "{page}");
    assert!(search_titles(srv, &token).is_empty());
    assert_eq!(
        api_get(srv, &token, &format!("/v1/blocks/{}/children", shared.id)).status(),
        404
    );
    // The UI, the page menu and consent treat them as gone too.
    let ada = logged_in(srv, "ada@example.com");
    let (status, _) = get_html(&ada, &srv.url(&format!("/w/{ws}/p/{}", deep.id)));
    assert_eq!(status, 404);
    let grace = logged_in(srv, "grace@example.com");
    let url = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&workspace_id={ws}",
        srv.base,
        fx.conf.integration.client_id,
        pagegrant::http::errors::url_encode("https://partner.example/cb")
    );
    let consent = grace
        .get(url)
        .send()
        .expect("consent")
        .text()
        .expect("body");
    assert!(!consent.contains("Older plans"), "not offered");
    let r = grace
        .post(srv.url("/v1/oauth/authorize"))
        .form(&[
            (
                "request_id",
                input_value(&consent, "request_id").expect("id").as_str(),
            ),
            (
                "csrf",
                input_value(&consent, "csrf").expect("csrf").as_str(),
            ),
            ("decision", "allow"),
            ("page", deep.id.as_str()),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 400, "a crafted consent cannot share it");
}

#[test]
fn has_children_counts_only_pages_the_connection_can_see() {
    let fx = fixture();
    let srv = &fx.srv;
    let ws = fx.acme.id.to_string();
    let team = srv.page(&fx.acme, &fx.grace, "Team", None, false);
    let notes = srv.page(&fx.acme, &fx.grace, "Notes", Some(&team), false);
    srv.page(&fx.acme, &fx.ada, "Ada Private Heron", Some(&notes), true);
    let tokens = connect(&fx, "grace@example.com", &ws, &[&team]);
    let token = tokens["access_token"].as_str().expect("token").to_string();
    let list: Value = api_get(srv, &token, &format!("/v1/blocks/{}/children", team.id))
        .json()
        .expect("json");
    let notes_block = &list["results"][0];
    assert_eq!(notes_block["child_page"]["title"], json!("Notes"));
    assert_eq!(
        notes_block["has_children"],
        json!(false),
        "Ada's private page under Notes is not counted"
    );
}
