//! The Notion-compatible API: isolation above all. Two connections in two
//! workspaces, private pages of two users, a three-level tree, trashed pages:
//! each token sees exactly its shared pages and their descendants.

use std::collections::BTreeSet;

use crate::kit::*;
use pagegrant::db::models::{IntegrationKind, Page};
use pagegrant::db::queries::{connections, scope};
use reqwest::blocking::Response;
use serde_json::{json, Value};

fn api(fx: &Fx, token: &str, method: &str, path: &str, body: Option<Value>) -> Response {
    api_request(fx, token, method, path, body)
}

fn search_all(fx: &Fx, token: &str, page_size: i64) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut b =
            json!({"filter": {"property": "object", "value": "page"}, "page_size": page_size});
        if let Some(c) = &cursor {
            b["start_cursor"] = json!(c);
        }
        let r = api(fx, token, "POST", "/v1/search", Some(b));
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-notion-request-id").is_some());
        let v: Value = r.json().expect("json");
        assert_eq!(v["object"], "list");
        assert_eq!(v["type"], "page_or_data_source");
        for p in v["results"].as_array().expect("results") {
            assert_eq!(p["object"], "page");
            ids.push(p["id"].as_str().expect("id").to_string());
        }
        if v["has_more"] != true {
            assert!(v["next_cursor"].is_null());
            break;
        }
        cursor = v["next_cursor"].as_str().map(String::from);
    }
    ids
}

struct World {
    fx: Fx,
    q1: Page,
    trashed: Page,
    under_trashed: Page,
    ada_private_child: Page,
    product: Page,
}

fn world() -> World {
    let fx = fixture();
    let q1 = fx
        .srv
        .page(&fx.acme, &fx.ada, "Q1 Plan", Some(&fx.roadmap), false);
    let trashed = fx
        .srv
        .page(&fx.acme, &fx.ada, "Old Stuff", Some(&fx.eng), false);
    let under_trashed = fx
        .srv
        .page(&fx.acme, &fx.ada, "Older Stuff", Some(&trashed), false);
    scope::update_page(&mut fx.srv.conn(), &trashed.id, None, Some(true), 1).expect("trash");
    let ada_private_child = fx
        .srv
        .page(&fx.acme, &fx.ada, "Ada Diary", Some(&fx.eng), true);
    let product = fx.srv.page(&fx.acme, &fx.grace, "Product", None, false);
    World {
        fx,
        q1,
        trashed,
        under_trashed,
        ada_private_child,
        product,
    }
}

fn set(ids: &[&Page]) -> BTreeSet<String> {
    ids.iter().map(|p| p.id.to_string()).collect()
}

#[test]
fn each_token_sees_exactly_its_pages_and_descendants() {
    let w = world();
    let fx = &w.fx;
    let grace = connect(
        fx,
        "grace@example.com",
        fx.acme.id.as_str(),
        &[&fx.eng, &fx.grace_private],
    );
    let ada_nb = connect(
        fx,
        "ada@example.com",
        fx.notebook.id.as_str(),
        &[&fx.notebook_page],
    );
    let g = grace["access_token"].as_str().expect("at");
    let a = ada_nb["access_token"].as_str().expect("at");

    let grace_sees: BTreeSet<String> = search_all(fx, g, 100).into_iter().collect();
    assert_eq!(
        grace_sees,
        set(&[&fx.eng, &fx.roadmap, &w.q1, &fx.grace_private]),
        "no trashed, no one else's private page"
    );
    let ada_sees: BTreeSet<String> = search_all(fx, a, 100).into_iter().collect();
    assert_eq!(ada_sees, set(&[&fx.notebook_page]));

    let all = [
        &fx.eng,
        &fx.roadmap,
        &w.q1,
        &w.trashed,
        &w.under_trashed,
        &w.ada_private_child,
        &w.product,
        &fx.ada_private,
        &fx.grace_private,
        &fx.notebook_page,
    ];
    for (token, sees) in [(g, &grace_sees), (a, &ada_sees)] {
        for p in all {
            let r = api(fx, token, "GET", &format!("/v1/pages/{}", p.id), None);
            let visible = sees.contains(&p.id.to_string())
                || (token == g && (p.id == w.trashed.id || p.id == w.under_trashed.id));
            if visible {
                assert_eq!(r.status(), 200, "{}", p.title);
            } else {
                assert_eq!(r.status(), 404, "{} must not leak", p.title);
                let v: Value = r.json().expect("json");
                assert_eq!(v["code"], "object_not_found");
            }
        }
    }
    // A page that does not exist reads exactly like one that is not shared.
    let missing: Value = api(
        fx,
        g,
        "GET",
        "/v1/pages/00000000-0000-4000-8000-000000000000",
        None,
    )
    .json()
    .expect("json");
    let unshared: Value = api(fx, g, "GET", &format!("/v1/pages/{}", w.product.id), None)
        .json()
        .expect("json");
    assert_eq!(missing["message"], unshared["message"]);
    // The trashed page is retrievable (in the shared tree) but marked.
    let t: Value = api(
        fx,
        g,
        "GET",
        &format!("/v1/pages/{}", w.under_trashed.id),
        None,
    )
    .json()
    .expect("json");
    assert_eq!(t["in_trash"], true);
}

#[test]
fn page_object_shape_and_ids_with_or_without_dashes() {
    let w = world();
    let fx = &w.fx;
    let v = connect(fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let g = v["access_token"].as_str().expect("at");
    let plain = fx.roadmap.id.to_string().replace('-', "");
    let r = api(fx, g, "GET", &format!("/v1/pages/{plain}"), None);
    assert_eq!(r.status(), 200);
    let p: Value = r.json().expect("json");
    assert_eq!(p["object"], "page");
    assert_eq!(p["id"], fx.roadmap.id.as_str());
    assert_eq!(
        p["parent"],
        json!({"type": "page_id", "page_id": fx.eng.id.as_str()})
    );
    assert_eq!(p["properties"]["title"]["type"], "title");
    assert_eq!(
        p["properties"]["title"]["title"][0]["plain_text"],
        "Roadmap"
    );
    assert_eq!(
        p["url"],
        format!(
            "{}/w/{}/p/{}",
            fx.srv.config.server.issuer, fx.acme.id, fx.roadmap.id
        )
    );
    assert!(p["created_time"].as_str().expect("t").ends_with(".000Z"));
    let top: Value = api(fx, g, "GET", &format!("/v1/pages/{}", fx.eng.id), None)
        .json()
        .expect("json");
    assert_eq!(
        top["parent"],
        json!({"type": "workspace", "workspace": true})
    );
    let r = api(fx, g, "GET", "/v1/pages/not-a-uuid", None);
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().expect("json")["code"], "validation_error");
}

#[test]
fn pagination_walks_every_result_once_and_cursors_are_tamper_proof() {
    let w = world();
    let fx = &w.fx;
    for i in 0..7 {
        fx.srv
            .page(&fx.acme, &fx.ada, &format!("Extra {i}"), Some(&w.q1), false);
    }
    let v = connect(fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let g = v["access_token"].as_str().expect("at");
    let everything = search_all(fx, g, 100);
    let paged = search_all(fx, g, 2);
    assert_eq!(everything.len(), 10);
    assert_eq!(paged.len(), everything.len(), "each exactly once");
    assert_eq!(paged.iter().collect::<BTreeSet<_>>().len(), paged.len());
    let first: Value = api(fx, g, "POST", "/v1/search", Some(json!({"page_size": 2})))
        .json()
        .expect("json");
    let cursor = first["next_cursor"].as_str().expect("cursor").to_string();
    let mut forged = cursor.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(forged).expect("utf8"),
        "garbage".into(),
        fx.roadmap.id.to_string(),
    ] {
        let r = api(
            fx,
            g,
            "POST",
            "/v1/search",
            Some(json!({"page_size": 2, "start_cursor": bad})),
        );
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().expect("json")["code"], "validation_error");
    }
    // Another connection cannot use this cursor.
    let other = connect(fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let r = api(
        fx,
        other["access_token"].as_str().expect("at"),
        "POST",
        "/v1/search",
        Some(json!({"page_size": 2, "start_cursor": cursor})),
    );
    assert_eq!(r.status(), 400);
    // Query matches titles case-insensitively; ascending sort reverses.
    let q: Value = api(
        fx,
        g,
        "POST",
        "/v1/search",
        Some(json!({"query": "extra 3"})),
    )
    .json()
    .expect("json");
    assert_eq!(q["results"].as_array().expect("r").len(), 1);
    let like: Value = api(fx, g, "POST", "/v1/search", Some(json!({"query": "%"})))
        .json()
        .expect("json");
    assert_eq!(
        like["results"].as_array().expect("r").len(),
        0,
        "LIKE wildcards are literal"
    );
    let asc: Value = api(
        fx,
        g,
        "POST",
        "/v1/search",
        Some(json!({"sort": {"timestamp": "last_edited_time", "direction": "ascending"}})),
    )
    .json()
    .expect("json");
    let desc: Value = api(
        fx,
        g,
        "POST",
        "/v1/search",
        Some(json!({"sort": {"timestamp": "last_edited_time", "direction": "descending"}})),
    )
    .json()
    .expect("json");
    let ids = |v: &Value| {
        v["results"]
            .as_array()
            .expect("r")
            .iter()
            .map(|p| p["id"].clone())
            .collect::<Vec<_>>()
    };
    let mut rev = ids(&desc);
    rev.reverse();
    assert_eq!(ids(&asc), rev);
}

#[test]
fn revoked_connection_and_removed_pages_take_effect_at_once() {
    let w = world();
    let fx = &w.fx;
    let v = connect(
        fx,
        "grace@example.com",
        fx.acme.id.as_str(),
        &[&fx.eng, &fx.grace_private],
    );
    let g = v["access_token"].as_str().expect("at");
    assert_eq!(search_all(fx, g, 100).len(), 4);
    let conn = connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("c");
    // Disconnect Engineering from the connection: its subtree is gone at once.
    let keep = pagegrant::db::models::ConnectionPage {
        connection_id: conn.id.clone(),
        page_id: fx.grace_private.id.clone(),
        added_by: fx.grace.id.clone(),
        added_at: 0,
    };
    connections::replace_pages(&mut fx.srv.conn(), &conn.id, &[keep]).expect("replace");
    assert_eq!(
        search_all(fx, g, 100),
        vec![fx.grace_private.id.to_string()]
    );
    assert_eq!(
        api(fx, g, "GET", &format!("/v1/pages/{}", fx.roadmap.id), None).status(),
        404
    );
    // Revoked: 401 everywhere.
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/revoke"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[("token", g)])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 200);
    for (m, p) in [("POST", "/v1/search"), ("GET", "/v1/users/me")] {
        let r = api(fx, g, m, p, None);
        assert_eq!(r.status(), 401, "{p}");
        assert_eq!(r.json::<Value>().expect("json")["code"], "unauthorized");
    }
}

#[test]
fn blocks_children_and_page_edits_with_capabilities() {
    let w = world();
    let fx = &w.fx;
    let v = connect(fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let g = v["access_token"].as_str().expect("at");
    let r = api(
        fx,
        g,
        "GET",
        &format!("/v1/blocks/{}/children", fx.eng.id),
        None,
    );
    assert_eq!(r.status(), 200);
    let list: Value = r.json().expect("json");
    assert_eq!(list["type"], "block");
    let titles: Vec<&str> = list["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|b| b["child_page"]["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, vec!["Roadmap"], "no trashed, no private children");
    assert_eq!(list["results"][0]["type"], "child_page");
    assert_eq!(list["results"][0]["has_children"], true);
    assert_eq!(
        api(
            fx,
            g,
            "GET",
            &format!("/v1/blocks/{}/children", w.product.id),
            None
        )
        .status(),
        404
    );
    let paged: Value = api(
        fx,
        g,
        "GET",
        &format!("/v1/blocks/{}/children?page_size=1", fx.roadmap.id),
        None,
    )
    .json()
    .expect("json");
    assert_eq!(paged["results"].as_array().expect("r").len(), 1);
    assert_eq!(
        api(
            fx,
            g,
            "GET",
            &format!("/v1/blocks/{}/children?page_size=abc", fx.roadmap.id),
            None
        )
        .status(),
        400
    );

    // The conf integration has read, update and read_user: PATCH works, POST needs insert.
    let r = api(
        fx,
        g,
        "PATCH",
        &format!("/v1/pages/{}", fx.roadmap.id),
        Some(json!({"properties": {"title": {"title": [{"text": {"content": "Roadmap 2027"}}]}}})),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().expect("json")["properties"]["title"]["title"][0]["plain_text"],
        "Roadmap 2027"
    );
    let a = logged_in(&fx.srv, "ada@example.com");
    let (_, html) = get_html(
        &a,
        &fx.srv
            .url(&format!("/w/{}/p/{}", fx.acme.id, fx.roadmap.id)),
    );
    assert!(html.contains("Roadmap 2027"), "edits show in the web UI");
    let r = api(
        fx,
        g,
        "POST",
        "/v1/pages",
        Some(
            json!({"parent": {"page_id": fx.roadmap.id.as_str()}, "properties": {"title": {"title": [{"text": {"content": "New"}}]}}}),
        ),
    );
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().expect("json")["code"],
        "restricted_resource"
    );
    // Trash through the API: gone from search.
    assert_eq!(
        api(
            fx,
            g,
            "PATCH",
            &format!("/v1/pages/{}", w.q1.id),
            Some(json!({"archived": true}))
        )
        .status(),
        200
    );
    assert!(!search_all(fx, g, 100).contains(&w.q1.id.to_string()));
    // Not shared: 404 before any capability question.
    assert_eq!(
        api(
            fx,
            g,
            "PATCH",
            &format!("/v1/pages/{}", w.product.id),
            Some(json!({"in_trash": true}))
        )
        .status(),
        404
    );
}

#[test]
fn internal_token_sees_only_pages_added_to_its_connection() {
    let w = world();
    let fx = &w.fx;
    let created = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Reports".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            capabilities: vec!["read_content".into(), "insert_content".into()],
            ..Default::default()
        },
    )
    .expect("internal");
    let token = created.internal_token.clone().expect("token");
    assert!(search_all(fx, &token, 100).is_empty(), "nothing shared yet");
    pagegrant::domain::connections::connection_add_page(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        created.connection_id.as_ref().expect("c"),
        &fx.roadmap.id,
    )
    .expect("add");
    let seen: BTreeSet<String> = search_all(fx, &token, 100).into_iter().collect();
    assert_eq!(seen, set(&[&fx.roadmap, &w.q1]));
    let me: Value = api(fx, &token, "GET", "/v1/users/me", None)
        .json()
        .expect("json");
    assert_eq!(
        me["bot"]["owner"],
        json!({"type": "workspace", "workspace": true})
    );
    // Insert capability: a child of a shared page, visible at once.
    let r = api(
        fx,
        &token,
        "POST",
        "/v1/pages",
        Some(
            json!({"parent": {"page_id": fx.roadmap.id.as_str()}, "properties": {"title": {"title": [{"text": {"content": "Made by bot"}}]}}}),
        ),
    );
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(search_all(fx, &token, 100).contains(&id));
    // No update capability.
    let r = api(
        fx,
        &token,
        "PATCH",
        &format!("/v1/pages/{id}"),
        Some(json!({"in_trash": true})),
    );
    assert_eq!(r.status(), 403);
    assert_eq!(
        api(fx, "ntn_made_up", "GET", "/v1/users/me", None).status(),
        401
    );
}

#[test]
fn bad_requests_are_notion_shaped_400s() {
    let w = world();
    let fx = &w.fx;
    let v = connect(fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let g = v["access_token"].as_str().expect("at");
    let r = bare_client()
        .post(fx.srv.url("/v1/search"))
        .bearer_auth(g)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().expect("json")["code"], "invalid_json");
    for (body, what) in [
        (json!({"page_size": "ten"}), "wrong type"),
        (json!({"page_size": 101}), "oversized page_size"),
        (json!({"page_size": 0}), "zero page_size"),
        (
            json!({"filter": {"property": "object", "value": "spaceship"}}),
            "unknown enum",
        ),
        (
            json!({"sort": {"timestamp": "created_time", "direction": "ascending"}}),
            "unknown sort",
        ),
        (json!({"surprise": 1}), "unknown field"),
    ] {
        let r = api(fx, g, "POST", "/v1/search", Some(body));
        assert_eq!(r.status(), 400, "{what}");
        let e: Value = r.json().expect("json");
        assert_eq!(e["object"], "error");
        assert_eq!(e["code"], "validation_error", "{what}");
        assert!(e["request_id"].is_string());
    }
    let r = bare_client()
        .post(fx.srv.url("/v1/search"))
        .bearer_auth(g)
        .header("Notion-Version", "1999-01-01")
        .json(&json!({}))
        .send()
        .expect("post");
    assert_eq!(r.status(), 400);
    let old: Value = bare_client()
        .post(fx.srv.url("/v1/search"))
        .bearer_auth(g)
        .header("Notion-Version", "2022-06-28")
        .json(&json!({}))
        .send()
        .expect("post")
        .json()
        .expect("json");
    assert_eq!(old["type"], "page_or_database");
    assert!(old.get("page_or_database").is_some());
    let none: Value = bare_client()
        .post(fx.srv.url("/v1/search"))
        .bearer_auth(g)
        .json(&json!({}))
        .send()
        .expect("post")
        .json()
        .expect("json");
    assert_eq!(none["type"], "page_or_data_source", "latest when absent");
    // The owner user; nobody else.
    let owner: Value = api(fx, g, "GET", &format!("/v1/users/{}", fx.grace.id), None)
        .json()
        .expect("json");
    assert_eq!(owner["type"], "person");
    assert_eq!(
        api(fx, g, "GET", &format!("/v1/users/{}", fx.ada.id), None).status(),
        404
    );
}

#[test]
fn rate_limit_is_per_connection_with_retry_after() {
    let fx = {
        let mut f = fixture();
        f.srv = TestServer::start_with(|c| {
            c.api.rate_limit_per_s = 1;
            c.api.rate_limit_burst = 3;
        });
        f
    };
    let srv = &fx.srv;
    let ada = srv.user("ada@example.com", "Ada");
    let ws = srv.workspace("Acme", &ada, pagegrant::db::models::Plan::Free);
    let mk = |name: &str| {
        pagegrant::domain::integrations::register(
            &mut srv.conn(),
            &srv.sbox,
            pagegrant::domain::integrations::NewIntegration {
                name: name.into(),
                kind: Some(IntegrationKind::Internal),
                workspace: Some(ws.clone()),
                ..Default::default()
            },
        )
        .expect("internal")
        .internal_token
        .expect("token")
    };
    let (t1, t2) = (mk("One"), mk("Two"));
    let me = |t: &str| {
        bare_client()
            .get(srv.url("/v1/users/me"))
            .bearer_auth(t)
            .send()
            .expect("me")
    };
    for _ in 0..3 {
        assert_eq!(me(&t1).status(), 200);
    }
    let r = me(&t1);
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .expect("h")
            .parse::<u64>()
            .expect("n")
            >= 1
    );
    assert_eq!(r.json::<Value>().expect("json")["code"], "rate_limited");
    assert_eq!(
        me(&t2).status(),
        200,
        "another connection has its own budget"
    );
}

#[test]
fn one_database_thread_answers_many_callers_at_once() {
    // `database.threads = 1`: every request's database work queues to one
    // thread per worker. Thirty-two callers at once, each with a write of
    // its own (the token's use noted) beside the reads, are all answered,
    // none stuck behind another.
    let srv = TestServer::start_with(|c| {
        c.server.workers = 1;
        c.database.threads = 1;
        c.api.rate_limit_per_s = 0;
    });
    let ada = srv.user("ada@example.com", "Ada");
    let ws = srv.workspace("Acme", &ada, pagegrant::db::models::Plan::Free);
    let token = pagegrant::domain::integrations::register(
        &mut srv.conn(),
        &srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Busy".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(ws),
            ..Default::default()
        },
    )
    .expect("internal")
    .internal_token
    .expect("token");
    let url = srv.url("/v1/users/me");
    let callers: Vec<_> = (0..32)
        .map(|_| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let c = bare_client();
                (0..10)
                    .map(|_| {
                        c.get(&url)
                            .bearer_auth(&token)
                            .send()
                            .expect("me")
                            .status()
                            .as_u16()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for caller in callers {
        let statuses = caller.join().expect("caller");
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
}
