//! Page content over the Notion block API (issue 18, DESIGN §8): append,
//! list, read, update and trash blocks, every call inside the grant; the
//! request validation of Notion's `validation_error`; and search over block
//! text within the same page scope.

use crate::kit::*;
use pagegrant::db::models::{IntegrationKind, Page};
use pagegrant::domain::blocks;
use pagegrant::domain::content::{Author, BlockContent, BlockType, Span};
use serde_json::{json, Value};

const ALL: &[&str] = &["read_content", "update_content", "insert_content"];

/// An internal integration in Acme with `caps`, its connection sharing
/// `pages`: its token.
fn token(fx: &Fx, name: &str, caps: &[&str], pages: &[&Page]) -> String {
    let created = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: name.into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            capabilities: caps.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        },
    )
    .expect("internal");
    for p in pages {
        pagegrant::domain::connections::connection_add_page(
            &mut fx.srv.conn(),
            &fx.srv.sbox,
            created.connection_id.as_ref().expect("connection"),
            &p.id,
        )
        .expect("share");
    }
    created.internal_token.expect("token")
}

fn call(fx: &Fx, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let r = api_request(fx, token, method, path, body);
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn text(t: &str) -> Value {
    json!([{"type": "text", "text": {"content": t}}])
}

fn para(t: &str) -> Value {
    json!({"object": "block", "type": "paragraph", "paragraph": {"rich_text": text(t)}})
}

fn append(fx: &Fx, token: &str, page: &str, children: Value) -> (u16, Value) {
    call(
        fx,
        token,
        "PATCH",
        &format!("/v1/blocks/{page}/children"),
        Some(json!({ "children": children })),
    )
}

/// Plain texts (or `page:<title>`) of every child, following cursors.
fn all_children(fx: &Fx, token: &str, page: &str, size: i64) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let mut calls = 0;
    loop {
        let mut path = format!("/v1/blocks/{page}/children?page_size={size}");
        if let Some(c) = &cursor {
            path.push_str(&format!(
                "&start_cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ));
        }
        let (s, v) = call(fx, token, "GET", &path, None);
        assert_eq!(s, 200, "{v}");
        calls += 1;
        let results = v["results"].as_array().expect("results");
        assert!(results.len() as i64 <= size);
        for b in results {
            let t = b["type"].as_str().expect("type");
            out.push(if t == "child_page" {
                format!("page:{}", b["child_page"]["title"].as_str().expect("title"))
            } else {
                b[t]["rich_text"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .map(|x| x["plain_text"].as_str().unwrap_or_default())
                            .collect::<String>()
                    })
                    .unwrap_or_else(|| t.to_string())
            });
        }
        if v["has_more"] != true {
            assert!(v["next_cursor"].is_null());
            break;
        }
        cursor = v["next_cursor"].as_str().map(String::from);
        assert!(cursor.is_some());
    }
    (out, calls)
}

fn seed(fx: &Fx, page: &Page, t: &str) -> String {
    blocks::append(
        &mut fx.srv.conn(),
        &page.id,
        &Author::User(fx.ada.id.clone()),
        &[BlockContent::new(
            BlockType::Paragraph,
            vec![Span::plain(t)],
        )],
    )
    .expect("seed")[0]
        .to_string()
}

#[test]
fn append_list_read_update_and_trash_blocks() {
    let fx = fixture();
    let t = token(&fx, "Writer", ALL, &[&fx.eng]);
    let eng = fx.eng.id.to_string();
    let (_, me) = call(&fx, &t, "GET", "/v1/users/me", None);
    let bot_id = me["id"].as_str().expect("bot id").to_string();
    let before = call(&fx, &t, "GET", &format!("/v1/pages/{eng}"), None).1["last_edited_time"]
        .as_str()
        .expect("time")
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let (s, v) = append(
        &fx,
        &t,
        &eng,
        json!([
            {"type": "heading_2", "heading_2": {"rich_text": text("Launch plan")}},
            {"paragraph": {"rich_text": [
                {"type": "text", "text": {"content": "Read "}},
                {"type": "text", "text": {"content": "the doc", "link": {"url": "https://example.com/doc"}},
                 "annotations": {"bold": true, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"}}
            ]}},
            {"type": "to_do", "to_do": {"rich_text": text("Ship it"), "checked": true}},
            {"type": "code", "code": {"rich_text": text("cargo test"), "language": "shell"}},
            {"type": "divider", "divider": {}},
        ]),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["object"], "list");
    assert_eq!(v["type"], "block");
    let made = v["results"].as_array().expect("results");
    assert_eq!(made.len(), 5);
    let p = &made[1];
    assert_eq!(p["object"], "block");
    assert_eq!(p["type"], "paragraph");
    assert_eq!(p["parent"], json!({"type": "page_id", "page_id": eng}));
    assert_eq!(p["created_by"], json!({"object": "user", "id": bot_id}));
    assert_eq!(p["has_children"], false);
    assert_eq!(p["in_trash"], false);
    let link = &p["paragraph"]["rich_text"][1];
    assert_eq!(link["plain_text"], "the doc");
    assert_eq!(link["href"], "https://example.com/doc");
    assert_eq!(link["text"]["link"]["url"], "https://example.com/doc");
    assert_eq!(link["annotations"]["bold"], true);
    assert_eq!(link["annotations"]["color"], "default");
    assert_eq!(made[2]["to_do"]["checked"], true);
    assert_eq!(made[3]["code"]["language"], "shell");
    assert_eq!(made[4]["divider"], json!({}));
    let after = call(&fx, &t, "GET", &format!("/v1/pages/{eng}"), None).1["last_edited_time"]
        .as_str()
        .expect("time")
        .to_string();
    assert!(
        after > before,
        "appending edits the page: {before} -> {after}"
    );

    // Content first, then the sub-pages.
    let (all, _) = all_children(&fx, &t, &eng, 100);
    assert_eq!(
        all,
        vec![
            "Launch plan",
            "Read the doc",
            "Ship it",
            "cargo test",
            "divider",
            "page:Roadmap"
        ]
    );

    // Insert at the start and after a block.
    let first = made[0]["id"].as_str().expect("id").to_string();
    let (s, v) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{eng}/children"),
        Some(json!({"children": [para("Intro")], "position": {"type": "start"}})),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{eng}/children"),
        Some(json!({"children": [para("Under the heading")], "after": first})),
    );
    assert_eq!(s, 200, "{v}");
    let (all, _) = all_children(&fx, &t, &eng, 100);
    assert_eq!(&all[..3], &["Intro", "Launch plan", "Under the heading"]);

    // Read one; update its text; update a to-do's checked state only.
    let para_id = made[1]["id"].as_str().expect("id");
    let (s, v) = call(&fx, &t, "GET", &format!("/v1/blocks/{para_id}"), None);
    assert_eq!(s, 200);
    assert_eq!(v["paragraph"]["rich_text"][0]["plain_text"], "Read ");
    let (s, v) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{para_id}"),
        Some(json!({"paragraph": {"rich_text": text("Read nothing")}})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["paragraph"]["rich_text"][0]["plain_text"], "Read nothing");
    assert_eq!(v["last_edited_by"]["id"], bot_id.as_str());
    let todo = made[2]["id"].as_str().expect("id");
    let (s, v) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{todo}"),
        Some(json!({"to_do": {"checked": false}})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["to_do"]["checked"], false);
    assert_eq!(v["to_do"]["rich_text"][0]["plain_text"], "Ship it");
    // A block keeps its type.
    let (s, v) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{todo}"),
        Some(json!({"paragraph": {"rich_text": text("x")}})),
    );
    assert_eq!(s, 400);
    assert_eq!(v["code"], "validation_error");
    assert!(v["message"].as_str().expect("m").contains("body.paragraph"));
    // Trash: gone from the list, still readable as trashed, not editable.
    let (s, v) = call(&fx, &t, "DELETE", &format!("/v1/blocks/{para_id}"), None);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["in_trash"], true);
    assert_eq!(v["archived"], true);
    let (all, _) = all_children(&fx, &t, &eng, 100);
    assert!(!all.iter().any(|x| x == "Read nothing"));
    let (s, v) = call(&fx, &t, "GET", &format!("/v1/blocks/{para_id}"), None);
    assert_eq!((s, v["in_trash"].clone()), (200, json!(true)));
    let (s, _) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{para_id}"),
        Some(json!({"paragraph": {"rich_text": text("again")}})),
    );
    assert_eq!(s, 400, "a trashed block is not edited");
    assert_eq!(
        call(&fx, &t, "DELETE", &format!("/v1/blocks/{para_id}"), None).0,
        400
    );
    let (s, v) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{para_id}"),
        Some(json!({"in_trash": false})),
    );
    assert_eq!((s, v["in_trash"].clone()), (200, json!(false)));
    let (all, _) = all_children(&fx, &t, &eng, 100);
    assert!(all.iter().any(|x| x == "Read nothing"), "restored in place");

    // A block has no children; a page id reads as a child_page block.
    let (s, v) = call(&fx, &t, "GET", &format!("/v1/blocks/{todo}/children"), None);
    assert_eq!((s, v["results"].clone()), (200, json!([])));
    let (s, v) = call(&fx, &t, "GET", &format!("/v1/blocks/{eng}"), None);
    assert_eq!(s, 200);
    assert_eq!(v["type"], "child_page");
    assert_eq!(v["child_page"]["title"], "Engineering");
    assert_eq!(v["has_children"], true);
    let (s, v) = append(&fx, &t, todo, json!([para("nested")]));
    assert_eq!(s, 400, "{v}");
}

#[test]
fn bad_block_requests_are_validation_errors_naming_the_path() {
    let fx = fixture();
    let t = token(&fx, "Writer", ALL, &[&fx.eng]);
    let eng = fx.eng.id.to_string();
    let roadmap_block = seed(&fx, &fx.roadmap, "on the roadmap");
    let long = "x".repeat(2001);
    let many: Vec<Value> = (0..101).map(|i| para(&format!("p{i}"))).collect();
    let spans: Vec<Value> = (0..101)
        .map(|_| json!({"type": "text", "text": {"content": "a"}}))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"children": "no"}), "body.children"),
        (json!({}), "body.children"),
        (json!({"children": many}), "body.children.length"),
        (
            json!({"children": [para("a"), para("b"), para("c"), {"type": "paragraph", "paragraph": {"rich_text": "text"}}]}),
            "body.children[3].paragraph.rich_text",
        ),
        (
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": long}}]}}]}),
            "body.children[0].paragraph.rich_text[0].text.content.length",
        ),
        (
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": spans}}]}),
            "body.children[0].paragraph.rich_text.length",
        ),
        (
            json!({"children": [{"type": "toggle", "toggle": {"rich_text": text("t")}}]}),
            "body.children[0].type",
        ),
        (
            json!({"children": [{"toggle": {"rich_text": text("t")}}]}),
            "body.children[0].type",
        ),
        (json!({"children": [{"type": 7}]}), "body.children[0].type"),
        (
            json!({"children": [{"type": "to_do", "to_do": {"rich_text": text("t"), "checked": "yes"}}]}),
            "body.children[0].to_do.checked",
        ),
        (
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "mention", "mention": {}}]}}]}),
            "body.children[0].paragraph.rich_text[0].type",
        ),
        (
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "x", "link": {"url": "javascript:alert(1)"}}}]}}]}),
            "body.children[0].paragraph.rich_text[0].text.link.url",
        ),
        (
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "x"}, "annotations": {"bold": "yes"}}]}}]}),
            "body.children[0].paragraph.rich_text[0].annotations",
        ),
        (
            json!({"children": [{"type": "paragraph"}]}),
            "body.children[0].paragraph",
        ),
        (
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": text("a"), "children": []}}]}),
            "body.children[0].paragraph.children",
        ),
        (
            json!({"children": [para("a")], "after": roadmap_block}),
            "body.position.after_block.id",
        ),
        (
            json!({"children": [para("a")], "position": {"type": "after_block", "after_block": {"id": roadmap_block}}}),
            "body.position.after_block.id",
        ),
        (
            json!({"children": [para("a")], "position": {"type": "middle"}}),
            "body.position.type",
        ),
        (
            json!({"children": [para("a")], "after": "nope"}),
            "body.after",
        ),
    ];
    for (body, path) in cases {
        let (s, v) = call(
            &fx,
            &t,
            "PATCH",
            &format!("/v1/blocks/{eng}/children"),
            Some(body.clone()),
        );
        assert_eq!(s, 400, "{body} -> {v}");
        assert_eq!(v["object"], "error");
        assert_eq!(v["code"], "validation_error", "{body}");
        let m = v["message"].as_str().expect("message");
        assert!(m.contains(path), "{body}: {m:?} should name {path}");
    }
    // Exactly at the limits is fine.
    let at: Vec<Value> = (0..100).map(|i| para(&format!("p{i}"))).collect();
    assert_eq!(append(&fx, &t, &eng, json!(at)).0, 200);
    let (s, _) = append(
        &fx,
        &t,
        &eng,
        json!([{"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "y".repeat(2000)}}]}}]),
    );
    assert_eq!(s, 200);
    // Not JSON; a bad id.
    let r = bare_client()
        .patch(fx.srv.url(&format!("/v1/blocks/{eng}/children")))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .expect("send");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().expect("json")["code"], "invalid_json");
    for m in ["GET", "PATCH", "DELETE"] {
        let (s, v) = call(&fx, &t, m, "/v1/blocks/not-a-uuid", Some(json!({})));
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("validation_error")),
            "{m}"
        );
    }
    // Bad update bodies.
    let b = seed(&fx, &fx.eng, "editable");
    for (body, path) in [
        (
            json!({"paragraph": {"rich_text": 3}}),
            "body.paragraph.rich_text",
        ),
        (
            json!({"paragraph": {"checked": true}}),
            "body.paragraph.checked",
        ),
        (json!({"in_trash": "yes"}), "body.in_trash"),
        (json!({"type": "code"}), "body.type"),
    ] {
        let (s, v) = call(
            &fx,
            &t,
            "PATCH",
            &format!("/v1/blocks/{b}"),
            Some(body.clone()),
        );
        assert_eq!(s, 400, "{body} -> {v}");
        assert!(
            v["message"].as_str().expect("m").contains(path),
            "{body}: {v}"
        );
    }
}

#[test]
fn blocks_outside_the_grant_are_not_found() {
    let fx = fixture();
    let t = token(&fx, "Writer", ALL, &[&fx.eng]);
    let trashed = fx.srv.page(&fx.acme, &fx.ada, "Old", Some(&fx.eng), false);
    let unshared = seed(&fx, &fx.grace_private, "grace only");
    let other_ws = seed(&fx, &fx.notebook_page, "recipes");
    let private = seed(&fx, &fx.ada_private, "ada only");
    let in_trash = seed(&fx, &trashed, "old text");
    pagegrant::db::queries::scope::update_page(
        &mut fx.srv.conn(),
        &trashed.id,
        None,
        Some(true),
        1,
    )
    .expect("trash");
    for id in [&unshared, &other_ws, &private, &in_trash] {
        for (m, path, body) in [
            ("GET", format!("/v1/blocks/{id}"), None),
            ("GET", format!("/v1/blocks/{id}/children"), None),
            (
                "PATCH",
                format!("/v1/blocks/{id}"),
                Some(json!({"paragraph": {"rich_text": text("x")}})),
            ),
            (
                "PATCH",
                format!("/v1/blocks/{id}/children"),
                Some(json!({"children": [para("x")]})),
            ),
            ("DELETE", format!("/v1/blocks/{id}"), None),
        ] {
            let (s, v) = call(&fx, &t, m, &path, body);
            assert_eq!(
                (s, v["code"].as_str()),
                (404, Some("object_not_found")),
                "{m} {path}"
            );
        }
    }
    for page in [
        &fx.grace_private,
        &fx.notebook_page,
        &fx.ada_private,
        &trashed,
    ] {
        let (s, _) = append(&fx, &t, page.id.as_str(), json!([para("x")]));
        assert_eq!(s, 404, "{}", page.title);
        let (s, _) = call(
            &fx,
            &t,
            "GET",
            &format!("/v1/blocks/{}/children", page.id),
            None,
        );
        assert_eq!(s, 404, "{}", page.title);
    }
    // Nothing was written anywhere outside the grant.
    let text_of = |p: &Page| -> Vec<String> {
        blocks::content_of(&mut fx.srv.conn(), &p.id)
            .expect("content")
            .iter()
            .map(|b| b.plain_text())
            .collect()
    };
    assert_eq!(text_of(&fx.grace_private), vec!["grace only"]);
    assert_eq!(text_of(&fx.notebook_page), vec!["recipes"]);
    // A made-up id is the same 404.
    let (s, _) = call(
        &fx,
        &t,
        "GET",
        "/v1/blocks/00000000-0000-4000-8000-000000000000",
        None,
    );
    assert_eq!(s, 404);
}

#[test]
fn block_capabilities_are_checked_before_scope_s68() {
    let fx = fixture();
    let reader = token(&fx, "Reader", &["read_content"], &[&fx.eng]);
    let inserter = token(&fx, "Inserter", &["insert_content"], &[&fx.eng]);
    let b = seed(&fx, &fx.eng, "text");
    let eng = fx.eng.id.to_string();
    for (m, path, body) in [
        (
            "PATCH",
            format!("/v1/blocks/{eng}/children"),
            Some(json!({"children": [para("x")]})),
        ),
        (
            "PATCH",
            format!("/v1/blocks/{b}"),
            Some(json!({"paragraph": {"rich_text": text("x")}})),
        ),
        ("DELETE", format!("/v1/blocks/{b}"), None),
    ] {
        let (s, v) = call(&fx, &reader, m, &path, body);
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("restricted_resource")),
            "{m} {path}"
        );
    }
    for path in [
        format!("/v1/blocks/{b}"),
        format!("/v1/blocks/{eng}/children"),
    ] {
        let (s, v) = call(&fx, &inserter, "GET", &path, None);
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("restricted_resource")),
            "{path}"
        );
    }
    assert_eq!(append(&fx, &inserter, &eng, json!([para("ok")])).0, 200);
    // A missing capability is the same 403 whatever the id (S68, issue 25:
    // capability first), so it tells nothing about which blocks exist;
    // with the capability, outside the grant is 404.
    let hidden = seed(&fx, &fx.grace_private, "hidden");
    let unknown = "00000000-0000-4000-8000-000000000000";
    for id in [hidden.as_str(), unknown, b.as_str()] {
        let (s, v) = call(&fx, &reader, "DELETE", &format!("/v1/blocks/{id}"), None);
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("restricted_resource")),
            "{id}"
        );
    }
    for page in [fx.grace_private.id.as_str(), unknown, eng.as_str()] {
        let (s, v) = append(&fx, &reader, page, json!([para("x")]));
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("restricted_resource")),
            "{page}"
        );
    }
    let writer = token(&fx, "Writer", ALL, &[&fx.eng]);
    for id in [hidden.as_str(), unknown] {
        let (s, _) = call(&fx, &writer, "DELETE", &format!("/v1/blocks/{id}"), None);
        assert_eq!(s, 404, "{id}");
    }
    assert_eq!(
        append(
            &fx,
            &writer,
            fx.grace_private.id.as_str(),
            json!([para("x")])
        )
        .0,
        404
    );
    // Nothing changed through the refused calls.
    let got: Vec<String> = blocks::content_of(&mut fx.srv.conn(), &fx.eng.id)
        .expect("content")
        .iter()
        .map(|c| c.plain_text())
        .collect();
    assert_eq!(got, vec!["text", "ok"]);
}

#[test]
fn children_paginate_across_blocks_and_sub_pages() {
    let fx = fixture();
    let t = token(&fx, "Writer", ALL, &[&fx.eng]);
    let eng = fx.eng.id.to_string();
    for title in ["Sub A", "Sub B"] {
        fx.srv.page(&fx.acme, &fx.ada, title, Some(&fx.eng), false);
    }
    // A private sub-page of Ada's never shows.
    fx.srv
        .page(&fx.acme, &fx.ada, "Hidden diary", Some(&fx.eng), true);
    let blocks: Vec<Value> = (0..7).map(|i| para(&format!("b{i}"))).collect();
    assert_eq!(append(&fx, &t, &eng, json!(blocks)).0, 200);
    // Sub-pages made in the same second are ordered by id: take the
    // one-call listing as the order every page size must reproduce.
    let (want, _) = all_children(&fx, &t, &eng, 100);
    let blocks_part: Vec<String> = (0..7).map(|i| format!("b{i}")).collect();
    assert_eq!(want[..7], blocks_part[..]);
    let mut pages_part = want[7..].to_vec();
    pages_part.sort();
    assert_eq!(pages_part, vec!["page:Roadmap", "page:Sub A", "page:Sub B"]);
    for size in [1, 3, 7, 9, 10, 100] {
        let (got, calls) = all_children(&fx, &t, &eng, size);
        assert_eq!(got, want, "page_size {size}");
        assert_eq!(calls, 10_usize.div_ceil(size as usize), "page_size {size}");
    }
    // A cursor of one page's listing does not continue another's.
    let (_, v) = call(
        &fx,
        &t,
        "GET",
        &format!("/v1/blocks/{eng}/children?page_size=2"),
        None,
    );
    let cursor = v["next_cursor"].as_str().expect("cursor").to_string();
    let enc: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    let (s, _) = call(
        &fx,
        &t,
        "GET",
        &format!("/v1/blocks/{}/children?start_cursor={enc}", fx.roadmap.id),
        None,
    );
    assert_eq!(s, 400);
    // Roadmap's has_children counts its content too.
    seed(&fx, &fx.roadmap, "roadmap text");
    let (_, v) = call(
        &fx,
        &t,
        "GET",
        &format!("/v1/blocks/{}", fx.roadmap.id),
        None,
    );
    assert_eq!(v["has_children"], true);
}

/// Titles of a search, in order, following cursors with `page_size`.
fn search(fx: &Fx, token: &str, query: &str, size: i64, direction: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut b = json!({"query": query, "page_size": size,
                           "sort": {"timestamp": "last_edited_time", "direction": direction}});
        if let Some(c) = &cursor {
            b["start_cursor"] = json!(c);
        }
        let (s, v) = call(fx, token, "POST", "/v1/search", Some(b));
        assert_eq!(s, 200, "{v}");
        for p in v["results"].as_array().expect("results") {
            out.push(
                p["properties"]["title"]["title"][0]["plain_text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        if v["has_more"] != true {
            break;
        }
        cursor = v["next_cursor"].as_str().map(String::from);
    }
    out
}

#[test]
fn search_finds_block_text_within_the_grant_below_title_matches() {
    let fx = fixture();
    let t = token(&fx, "Searcher", ALL, &[&fx.eng]);
    let hangar = fx
        .srv
        .page(&fx.acme, &fx.ada, "Zeppelin hangar", Some(&fx.eng), false);
    let old = fx
        .srv
        .page(&fx.acme, &fx.ada, "Old notes", Some(&fx.eng), false);
    seed(&fx, &old, "zeppelin in a trashed page");
    pagegrant::db::queries::scope::update_page(&mut fx.srv.conn(), &old.id, None, Some(true), 1)
        .expect("trash");
    // Text on pages outside the grant never surfaces.
    seed(&fx, &fx.grace_private, "zeppelin of grace");
    seed(&fx, &fx.notebook_page, "zeppelin recipes");
    seed(&fx, &fx.ada_private, "zeppelin diary");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // The body match is edited last, yet the title match ranks first.
    let (s, v) = append(
        &fx,
        &t,
        fx.roadmap.id.as_str(),
        json!([para("Ship the Zeppelin manifest, then the café menu.")]),
    );
    assert_eq!(s, 200, "{v}");
    let block = v["results"][0]["id"].as_str().expect("id").to_string();
    assert_eq!(
        search(&fx, &t, "manifest", 100, "descending"),
        vec!["Roadmap"]
    );
    for dir in ["descending", "ascending"] {
        for size in [1, 100] {
            assert_eq!(
                search(&fx, &t, "zeppelin", size, dir),
                vec!["Zeppelin hangar", "Roadmap"],
                "{dir} {size}"
            );
        }
    }
    // Word prefixes, any case, accents folded, every word needed.
    assert_eq!(search(&fx, &t, "MANIF", 100, "descending"), vec!["Roadmap"]);
    // SQLite's tokenizer folds accents; PostgreSQL's `simple` one does not
    // (unaccent is an extension a managed server may lack).
    if !on_postgres() {
        assert_eq!(search(&fx, &t, "cafe", 100, "descending"), vec!["Roadmap"]);
    }
    assert_eq!(search(&fx, &t, "café", 100, "descending"), vec!["Roadmap"]);
    assert_eq!(
        search(&fx, &t, "zeppelin manifest", 100, "descending"),
        vec!["Roadmap"]
    );
    assert!(search(&fx, &t, "zeppelin airship", 100, "descending").is_empty());
    // Query syntax of either backend is just text.
    for q in ["\"zep*", "a OR b", "x:* & !y", "NEAR(a b)", "'--", "%_\\"] {
        let (s, _) = call(&fx, &t, "POST", "/v1/search", Some(json!({"query": q})));
        assert_eq!(s, 200, "{q}");
    }
    // Edited text is searched as it is now.
    let (s, _) = call(
        &fx,
        &t,
        "PATCH",
        &format!("/v1/blocks/{block}"),
        Some(json!({"paragraph": {"rich_text": text("An airship manifest")}})),
    );
    assert_eq!(s, 200);
    assert_eq!(
        search(&fx, &t, "airship", 100, "descending"),
        vec!["Roadmap"]
    );
    assert_eq!(
        search(&fx, &t, "zeppelin", 100, "descending"),
        vec!["Zeppelin hangar"]
    );
    // A trashed block is not found.
    assert_eq!(
        call(&fx, &t, "DELETE", &format!("/v1/blocks/{block}"), None).0,
        200
    );
    assert!(search(&fx, &t, "airship", 100, "descending").is_empty());
    let _ = hangar;
}

/// Whether the connection of the integration `name` holds its reachable
/// set as of its workspace's current version, and how many pages it holds.
fn scope_state(fx: &Fx, name: &str) -> (bool, i64) {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct State {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        fresh: bool,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let s: State = diesel::sql_query(
        "SELECT (c.scope_version = w.scope_version) AS fresh, \
                (SELECT COUNT(*) FROM connection_scope s WHERE s.connection_id = c.id) AS n \
           FROM connections c JOIN workspaces w ON w.id = c.workspace_id \
           JOIN integrations i ON i.id = c.integration_id WHERE i.name = $1",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .get_result(&mut fx.srv.conn())
    .expect("scope state");
    (s.fresh, s.n)
}

/// Issue 20: a connection's reachable pages are computed once per change
/// and kept; every kind of change is seen by the very next call.
#[test]
fn the_reachable_set_is_kept_and_follows_every_change() {
    let fx = fixture();
    let t = token(&fx, "Scoped", ALL, &[&fx.eng]);
    let titles = |fx: &Fx| {
        let mut v = search(fx, &t, "", 100, "descending");
        v.sort();
        v
    };
    assert_eq!(titles(&fx), ["Engineering", "Roadmap"]);
    assert_eq!(
        scope_state(&fx, "Scoped"),
        (true, 2),
        "kept as of this version"
    );
    assert_eq!(titles(&fx), ["Engineering", "Roadmap"]);
    assert_eq!(scope_state(&fx, "Scoped"), (true, 2));

    // A page the connection creates under a shared one.
    let (s, v) = call(
        &fx,
        &t,
        "POST",
        "/v1/pages",
        Some(json!({"parent": {"page_id": fx.roadmap.id.to_string()},
                    "properties": {"title": {"title": [{"text": {"content": "Plan"}}]}}})),
    );
    assert_eq!(s, 200, "{v}");
    assert!(!scope_state(&fx, "Scoped").0, "the change is noticed");
    assert_eq!(titles(&fx), ["Engineering", "Plan", "Roadmap"]);
    assert_eq!(scope_state(&fx, "Scoped"), (true, 3));

    // A page a person adds in the workspace, and a private one beside it.
    fx.srv
        .page(&fx.acme, &fx.grace, "Grace Notes", Some(&fx.eng), false);
    fx.srv
        .page(&fx.acme, &fx.grace, "Grace Private", Some(&fx.eng), true);
    assert_eq!(
        titles(&fx),
        ["Engineering", "Grace Notes", "Plan", "Roadmap"]
    );

    // Trashing a page hides it and what is under it; restoring brings both back.
    let roadmap = format!("/v1/pages/{}", fx.roadmap.id);
    let (s, v) = call(&fx, &t, "PATCH", &roadmap, Some(json!({"in_trash": true})));
    assert_eq!(s, 200, "{v}");
    assert_eq!(titles(&fx), ["Engineering", "Grace Notes"]);
    let (s, v) = call(&fx, &t, "PATCH", &roadmap, Some(json!({"in_trash": false})));
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        titles(&fx),
        ["Engineering", "Grace Notes", "Plan", "Roadmap"]
    );

    // Unsharing the shared page takes everything away at once.
    let connection = {
        use diesel::prelude::*;
        use pagegrant::db::schema::{connections, integrations};
        connections::table
            .inner_join(integrations::table)
            .filter(integrations::name.eq("Scoped"))
            .select(connections::id)
            .first::<pagegrant::db::models::ConnectionId>(&mut fx.srv.conn())
            .expect("connection")
    };
    pagegrant::domain::connections::change_page(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &connection,
        &fx.eng.id,
        None,
        pagegrant::domain::connections::PageChange::Unshare,
    )
    .expect("unshare");
    assert!(titles(&fx).is_empty());
    let (s, _) = call(&fx, &t, "GET", &roadmap, None);
    assert_eq!(s, 404, "a page no longer shared is not found");
    assert_eq!(scope_state(&fx, "Scoped"), (true, 0));
}
