//! Issue 29 item 3: each connection's activity. Reads over `/v1` and MCP
//! counted per page, tool or route and hour (one row with a count, written
//! by the flush timer), writes one row each; Settings → the connection's
//! ••• → Activity for owners and the person who made it (S105), without
//! another person's private page titles (S106); filters, paging, CSV,
//! purge and bad input.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use pagegrant::db::schema::{connection_activity as ca, connections, integrations};
use reqwest::blocking::Client;
use serde_json::json;

use crate::kit::mcp::{self, call, WRITE};
use crate::kit::*;

/// A server whose read buffer is written every second.
fn fast() -> Fx {
    fixture_with(|c| c.agents.activity_flush_s = 1)
}

/// The connection `user` made with client `client_id`.
fn connection_of(fx: &Fx, client_id: &str, user: &pagegrant::db::models::User) -> String {
    connections::table
        .inner_join(integrations::table)
        .filter(integrations::client_id.eq(client_id))
        .filter(connections::installed_by.eq(user.id.as_str()))
        .select(connections::id)
        .first::<String>(&mut fx.srv.conn())
        .expect("connection")
}

/// (kind, op, page id, count) of a connection's rows, oldest first.
fn rows(fx: &Fx, conn: &str) -> Vec<(String, String, String, i64)> {
    ca::table
        .filter(ca::connection_id.eq(conn))
        .order(ca::id.asc())
        .select((ca::kind, ca::op, ca::page_id, ca::count))
        .load(&mut fx.srv.conn())
        .expect("activity")
}

/// Waits (at most 15 s) until `done` holds of the connection's rows.
fn wait_rows(
    fx: &Fx,
    conn: &str,
    done: impl Fn(&[(String, String, String, i64)]) -> bool,
) -> Vec<(String, String, String, i64)> {
    let start = Instant::now();
    loop {
        let r = rows(fx, conn);
        if done(&r) {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "activity never came: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn reads_of<'a>(
    r: &'a [(String, String, String, i64)],
    op: &str,
    page: &str,
) -> Vec<&'a (String, String, String, i64)> {
    r.iter()
        .filter(|x| x.0 == "read" && x.1 == op && x.2 == page)
        .collect()
}

fn activity_url(fx: &Fx, conn: &str, rest: &str) -> String {
    fx.srv.url(&format!(
        "/w/{}/settings/connections/{conn}/activity{rest}",
        fx.acme.id
    ))
}

fn activity_page(fx: &Fx, c: &Client, conn: &str, rest: &str) -> String {
    let (status, page) = get_html(c, &activity_url(fx, conn, rest));
    assert_eq!(status, 200, "{rest}: {page}");
    page
}

fn csv_of(fx: &Fx, c: &Client, conn: &str, query: &str) -> reqwest::blocking::Response {
    c.get(fx.srv.url(&format!(
        "/w/{}/settings/connections/{conn}/activity.csv{query}",
        fx.acme.id
    )))
    .send()
    .expect("csv")
}

/// A /v1 connection Ada (or Grace) made with the Partner app sharing `pages`.
fn api_connection(
    fx: &Fx,
    email: &str,
    pages: &[&pagegrant::db::models::Page],
) -> (String, String) {
    let t = connect(fx, email, fx.acme.id.as_str(), pages);
    let user = match email {
        "ada@example.com" => &fx.ada,
        _ => &fx.grace,
    };
    let conn = connection_of(fx, &fx.conf.integration.client_id, user);
    (t["access_token"].as_str().expect("token").to_string(), conn)
}

#[test]
fn mcp_reads_are_one_row_per_page_and_hour_and_writes_one_row_each() {
    let fx = fast();
    let (eng, roadmap) = (fx.eng.id.to_string(), fx.roadmap.id.to_string());
    let (token, client) = mcp::connect_for(&fx, WRITE, &[&eng], &fx.srv.url("/mcp"));
    let conn = connection_of(&fx, &client, &fx.ada);
    for _ in 0..5 {
        let r = call(&fx, &token, "fetch", json!({"id": eng}));
        assert_ne!(r["isError"], json!(true), "{r}");
    }
    call(&fx, &token, "fetch", json!({"id": roadmap}));
    // Search lists titles: not a read of the pages it finds.
    call(&fx, &token, "search", json!({"query": "Road"}));
    // A refused fetch reads nothing.
    let r = call(
        &fx,
        &token,
        "fetch",
        json!({"id": fx.ada_private.id.to_string()}),
    );
    assert_eq!(r["isError"], json!(true));
    let r = call(
        &fx,
        &token,
        "create_page",
        json!({"parent_id": eng, "title": "Agent notes", "content": "Hello"}),
    );
    assert_ne!(r["isError"], json!(true), "{r}");
    call(
        &fx,
        &token,
        "update_page",
        json!({"id": roadmap, "append_content": "One more line"}),
    );
    let r = wait_rows(&fx, &conn, |r| r.iter().any(|x| x.0 == "read"));
    // Five fetches of one page in one hour: one row counting five.
    assert_eq!(reads_of(&r, "mcp.fetch", &eng).len(), 1, "{r:?}");
    assert_eq!(reads_of(&r, "mcp.fetch", &eng)[0].3, 5, "{r:?}");
    assert_eq!(reads_of(&r, "mcp.fetch", &roadmap)[0].3, 1, "{r:?}");
    let reads = r.iter().filter(|x| x.0 == "read").count();
    assert_eq!(reads, 2, "only fetches are reads: {r:?}");
    let writes: Vec<_> = r
        .iter()
        .filter(|x| x.0 == "write")
        .map(|x| (x.1.as_str(), x.3))
        .collect();
    assert_eq!(
        writes,
        [("mcp.create_page", 1), ("mcp.update_page", 1)],
        "{r:?}"
    );
    // More reads in the same hour add to the same row (one upsert per flush).
    call(&fx, &token, "fetch", json!({"id": eng}));
    call(&fx, &token, "fetch", json!({"id": eng}));
    let r = wait_rows(&fx, &conn, |r| {
        reads_of(r, "mcp.fetch", &eng)
            .first()
            .is_some_and(|x| x.3 == 7)
    });
    assert_eq!(reads_of(&r, "mcp.fetch", &eng).len(), 1, "{r:?}");
    // The audit log keeps people's actions and writes, never reads.
    assert!(
        !audit_actions(&fx).iter().any(|a| a.contains("read")),
        "{:?}",
        audit_actions(&fx)
    );
    // The owner sees it under the connection's Activity.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = activity_page(&fx, &ada, &conn, "");
    assert!(page.contains("Read 7 times in this hour"), "{page}");
    assert!(page.contains("MCP fetch"));
    assert!(page.contains("Created the page"));
    assert!(page.contains("MCP update_page"));
    assert!(page.contains("Agent notes"));
}

#[test]
fn api_reads_and_writes_are_recorded_by_route() {
    let fx = fast();
    let (token, conn) = api_connection(&fx, "ada@example.com", &[&fx.eng]);
    let (eng, roadmap) = (fx.eng.id.to_string(), fx.roadmap.id.to_string());
    for _ in 0..3 {
        let r = api_request(&fx, &token, "GET", &format!("/v1/pages/{eng}"), None);
        assert_eq!(r.status(), 200);
    }
    for _ in 0..2 {
        let path = format!("/v1/blocks/{eng}/children");
        assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 200);
    }
    let path = format!("/v1/blocks/{roadmap}");
    assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 200);
    let r = api_request(&fx, &token, "POST", "/v1/search", Some(json!({})));
    assert_eq!(r.status(), 200);
    // A refused read (not shared) leaves no row.
    let path = format!("/v1/pages/{}", fx.ada_private.id);
    assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 404);
    let body = json!({"properties": {"title": {"title": [{"text": {"content": "Roadmap 2027"}}]}}});
    let path = format!("/v1/pages/{roadmap}");
    let r = api_request(&fx, &token, "PATCH", &path, Some(body));
    assert_eq!(r.status(), 200);
    let path = format!("/v1/blocks/{roadmap}");
    assert_eq!(
        api_request(&fx, &token, "DELETE", &path, None).status(),
        200
    );
    let r = wait_rows(&fx, &conn, |r| {
        r.iter().filter(|x| x.0 == "read").count() >= 3
    });
    assert_eq!(reads_of(&r, "api.get_page", &eng)[0].3, 3, "{r:?}");
    assert_eq!(
        reads_of(&r, "api.get_block_children", &eng)[0].3,
        2,
        "{r:?}"
    );
    assert_eq!(reads_of(&r, "api.get_block", &roadmap)[0].3, 1, "{r:?}");
    assert_eq!(r.iter().filter(|x| x.0 == "read").count(), 3, "{r:?}");
    let writes: Vec<_> = r
        .iter()
        .filter(|x| x.0 == "write")
        .map(|x| (x.1.as_str(), x.2.as_str()))
        .collect();
    assert_eq!(
        writes,
        [
            ("api.patch_page", roadmap.as_str()),
            ("api.delete_block", roadmap.as_str())
        ],
        "{r:?}"
    );
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = activity_page(&fx, &ada, &conn, "");
    assert!(page.contains("GET /v1/pages/{id}"), "{page}");
    assert!(page.contains("DELETE /v1/blocks/{id}"), "{page}");
    assert!(page.contains("Read 3 times in this hour"), "{page}");
}

/// S105: a connection's activity is for owners (any connection) and the
/// person who made it; another member, another workspace's id or someone
/// outside the workspace is refused, on the page and the CSV alike.
#[test]
fn activity_is_for_owners_and_the_connections_maker_only_s105() {
    let fx = fast();
    let (_, ada_conn) = api_connection(&fx, "ada@example.com", &[&fx.eng]);
    let (_, grace_conn) = api_connection(&fx, "grace@example.com", &[&fx.eng]);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    // The ••• menu of each row the viewer may manage offers Activity.
    let (_, settings) = get_html(
        &grace,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    assert!(settings.contains(&format!("/settings/connections/{grace_conn}/activity")));
    assert!(!settings.contains(&format!("/settings/connections/{ada_conn}/activity")));
    activity_page(&fx, &ada, &grace_conn, "");
    activity_page(&fx, &ada, &ada_conn, "");
    activity_page(&fx, &grace, &grace_conn, "");
    let (status, body) = get_html(&grace, &activity_url(&fx, &ada_conn, ""));
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("Activity of"));
    assert_eq!(csv_of(&fx, &grace, &ada_conn, "").status(), 403);
    assert_eq!(csv_of(&fx, &ada, &grace_conn, "").status(), 200);
    // Another workspace's path for the connection: not found.
    let other = fx.srv.url(&format!(
        "/w/{}/settings/connections/{ada_conn}/activity",
        fx.notebook.id
    ));
    let (status, _) = get_html(&ada, &other);
    assert_eq!(status, 404);
    // Someone outside Acme.
    fx.srv.user("eve@example.com", "Eve");
    let eve = logged_in(&fx.srv, "eve@example.com");
    let (status, body) = get_html(&eve, &activity_url(&fx, &ada_conn, ""));
    assert!(status == 403 || status == 404, "{status}");
    assert!(!body.contains("Activity of"));
    // Not logged in: the login page, nothing of the activity.
    let (status, body) = get_html(&client(), &activity_url(&fx, &ada_conn, ""));
    assert!(!body.contains("Activity of"), "{status}");
    // A connection id that does not exist, or is not an id.
    let none = pagegrant::db::models::ConnectionId::new();
    let (status, _) = get_html(&ada, &activity_url(&fx, none.as_str(), ""));
    assert_eq!(status, 404);
    let (status, _) = get_html(&ada, &activity_url(&fx, "not-an-id", ""));
    assert_eq!(status, 404);
}

/// S106: an owner reading a member's connection activity does not learn
/// the title of that member's private page (nor gets a link to it), on the
/// page or in the CSV; the member does.
#[test]
fn activity_hides_another_persons_private_page_titles_s106() {
    let fx = fast();
    let (token, conn) = api_connection(&fx, "grace@example.com", &[&fx.grace_private]);
    let path = format!("/v1/pages/{}", fx.grace_private.id);
    assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 200);
    wait_rows(&fx, &conn, |r| !r.is_empty());
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = activity_page(&fx, &ada, &conn, "");
    assert!(page.contains("A private page"), "{page}");
    assert!(!page.contains("Grace Scratch Quokka"), "{page}");
    assert!(!page.contains(&format!("/p/{}", fx.grace_private.id)));
    let csv = csv_of(&fx, &ada, &conn, "").text().unwrap();
    assert!(csv.contains("A private page"), "{csv}");
    assert!(!csv.contains("Grace Scratch Quokka"), "{csv}");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let page = activity_page(&fx, &grace, &conn, "");
    assert!(page.contains("Grace Scratch Quokka"), "{page}");
}

#[test]
fn activity_filters_pages_and_refuses_bad_input() {
    let fx = fast();
    let (token, conn) = api_connection(&fx, "ada@example.com", &[&fx.eng]);
    let roadmap = fx.roadmap.id.to_string();
    let path = format!("/v1/pages/{}", fx.eng.id);
    assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 200);
    // 55 renames: 55 write rows, more than one list page (50).
    for i in 0..55 {
        let body = json!({"properties": {"title": {"title": [{"text": {"content": format!("Roadmap {i}")}}]}}});
        let path = format!("/v1/pages/{roadmap}");
        let r = api_request(&fx, &token, "PATCH", &path, Some(body));
        assert_eq!(r.status(), 200, "{i}");
    }
    wait_rows(&fx, &conn, |r| r.iter().any(|x| x.0 == "read"));
    let ada = logged_in(&fx.srv, "ada@example.com");
    let rows_in = |page: &str| page.matches("<tr class=\"activity-").count();
    let first = activity_page(&fx, &ada, &conn, "");
    assert_eq!(rows_in(&first), 50);
    let older = attr(&first, "a[rel=next]", "href").expect("an Older link");
    let (status, second) = get_html(&ada, &fx.srv.url(&older));
    assert_eq!(status, 200);
    // 56 rows in all: 6 on the second page, the read (oldest hour) among them.
    assert_eq!(rows_in(&second), 6, "{second}");
    assert!(second.contains("Newest"));
    // Show: Reads.
    let reads = activity_page(&fx, &ada, &conn, "?kind=read");
    assert_eq!(rows_in(&reads), 1);
    assert!(reads.contains("GET /v1/pages/{id}"));
    // Through: one route, a surface.
    let patch = activity_page(&fx, &ada, &conn, "?via=api.patch_page");
    assert_eq!(rows_in(&patch), 50);
    let mcp = activity_page(&fx, &ada, &conn, "?via=mcp");
    assert_eq!(rows_in(&mcp), 0);
    assert!(mcp.contains("No activity matches"));
    let both = activity_page(&fx, &ada, &conn, "?kind=write&via=api");
    assert_eq!(rows_in(&both), 50);
    // Bad input: a clear page, 400, never a 500.
    for (q, says) in [
        ("?kind=everything", "Show must be"),
        ("?via=ftp", "Through must be"),
        ("?before=yesterday", "list position"),
        ("?before=1_x", "list position"),
    ] {
        let (status, body) = get_html(&ada, &activity_url(&fx, &conn, q));
        assert_eq!(status, 400, "{q}");
        assert!(body.contains(says), "{q}: {body}");
        let r = csv_of(&fx, &ada, &conn, q);
        if !q.starts_with("?before") {
            assert_eq!(r.status(), 400, "{q}");
        }
    }
}

/// The CSV export: the filter's rows, a cell that would run as a
/// spreadsheet formula is quoted (as the audit export does, S72).
#[test]
fn activity_exports_csv_with_formulas_defused() {
    let fx = fast();
    let evil = fx.srv.page(
        &fx.acme,
        &fx.ada,
        "=HYPERLINK(\"https://evil.example\")",
        Some(&fx.eng),
        false,
    );
    let (token, conn) = api_connection(&fx, "ada@example.com", &[&fx.eng]);
    let path = format!("/v1/pages/{}", evil.id);
    assert_eq!(api_request(&fx, &token, "GET", &path, None).status(), 200);
    wait_rows(&fx, &conn, |r| !r.is_empty());
    let ada = logged_in(&fx.srv, "ada@example.com");
    let r = csv_of(&fx, &ada, &conn, "?kind=read");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.contains(&format!("activity-{conn}.csv")));
    let csv = r.text().unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time,last,kind,surface,via,page_id,page,count,detail")
    );
    let line = lines.next().expect("one row");
    assert!(line.contains(",read,api,GET /v1/pages/{id},"), "{line}");
    assert!(line.contains("'=HYPERLINK"), "{line}");
    assert!(lines.next().is_none(), "{csv}");
}

/// Rows older than `agents.activity_days` are deleted by the timer; newer
/// ones stay.
#[test]
fn activity_older_than_activity_days_is_purged() {
    let fx = fixture_with(|c| {
        c.agents.activity_flush_s = 1;
        c.agents.activity_days = 2;
    });
    let (token, conn) = api_connection(&fx, "ada@example.com", &[&fx.eng]);
    for title in ["Old", "New"] {
        let body = json!({"properties": {"title": {"title": [{"text": {"content": title}}]}}});
        let path = format!("/v1/pages/{}", fx.roadmap.id);
        let r = api_request(&fx, &token, "PATCH", &path, Some(body));
        assert_eq!(r.status(), 200);
    }
    let first: i32 = ca::table
        .filter(ca::connection_id.eq(&conn))
        .select(diesel::dsl::min(ca::id))
        .first::<Option<i32>>(&mut fx.srv.conn())
        .unwrap()
        .expect("rows");
    // The first write happened three days ago.
    diesel::update(ca::table.filter(ca::id.eq(first)))
        .set(ca::at.eq(ca::at - 3 * 86_400))
        .execute(&mut fx.srv.conn())
        .unwrap();
    let r = wait_rows(&fx, &conn, |r| r.len() == 1);
    assert_eq!(r[0].1, "api.patch_page");
}

/// Reads counted in memory are written when the server stops (SIGTERM),
/// not only by the timer: nothing counted is lost on a graceful stop.
#[test]
fn counted_reads_are_written_when_the_server_stops() {
    use crate::kit::process::{self, Proc};
    let w = process::world(1);
    // The timer would not flush for an hour.
    let env = [("PAGEGRANT_AGENTS__ACTIVITY_FLUSH_S", "3600")];
    let mut p = Proc::serve(w.dir.path(), "serve.log", &env);
    let (browser, _, _) = process::login(&p.base, "user0@example.com", &w.password);
    let code = process::consent_code(&p.base, &browser, &w).expect("code");
    drop(browser);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
    ];
    let (status, t) = process::token_call(&p.base, &w, &form).expect("token");
    assert_eq!(status, 200, "{t}");
    let token = t["access_token"].as_str().expect("access token");
    for _ in 0..2 {
        let r = bare_client()
            .get(p.url(&format!("/v1/pages/{}", w.page_id)))
            .bearer_auth(token)
            .send()
            .expect("read");
        assert_eq!(r.status(), 200);
    }
    let mut config = pagegrant::config::Config::defaults().expect("config");
    config.database.url = cli_db(w.dir.path());
    let pool = pagegrant::db::open(&config.database).expect("db");
    let counts = || -> Vec<i64> {
        ca::table
            .select(ca::count)
            .load(&mut pool.get().expect("conn"))
            .expect("activity")
    };
    assert!(counts().is_empty(), "nothing written before the stop");
    let stopped = p.terminate();
    assert!(stopped.success(), "{stopped:?}: {}", p.log_text());
    assert_eq!(counts(), [2]);
}

/// A flush of more buckets than SQLite binds parameters in one query
/// (32,766) still writes: the existence checks go in chunks; buckets of
/// pages that are gone are skipped.
#[test]
fn a_flush_larger_than_one_query_writes_what_still_exists() {
    use pagegrant::db::models::{ActivityOp, ConnectionId, PageId};
    use pagegrant::domain::activity::{self, Buffer};
    let fx = fixture();
    let (_, conn) = api_connection(&fx, "ada@example.com", &[&fx.eng]);
    let id = ConnectionId::parse(&conn).expect("id");
    let buffer = Buffer::default();
    for _ in 0..40_000 {
        buffer.read(&id, &PageId::new(), ActivityOp::ApiGetPage);
    }
    buffer.read(&id, &fx.eng.id, ActivityOp::ApiGetPage);
    let flushed = activity::flush(&mut fx.srv.conn(), &buffer).expect("flush");
    assert_eq!(flushed.buckets, 40_001);
    assert_eq!(buffer.pending(), 0);
    let r = rows(&fx, &conn);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].2, fx.eng.id.to_string());
}
