//! What a connection can see, computed by one recursive query (plain SQL
//! that SQLite and PostgreSQL both run) when it changes and kept in
//! `connection_scope`: the pages shared with it and their descendants.
//! A private page reaches a connection only when its creator shared that
//! page itself (and installed the connection); sharing a page never carries
//! private descendants along. `trashed` is true when the page or any
//! ancestor — inside the shared tree or above it — is in the trash.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};

use crate::db::models::{ConnectionId, Page, PageId, UserId};
use crate::db::Conn;

#[derive(Debug, Clone, QueryableByName)]
pub struct ScopedPage {
    #[diesel(embed)]
    pub page: Page,
    #[diesel(sql_type = Bool)]
    pub trashed: bool,
}

/// `$1` connection id, `$2` installer: the CTEs that compute a connection's
/// scope from the pages and shares. `scoped` holds each reachable page once.
fn visible(conn: &Conn) -> String {
    VISIBLE.replace("BOOL_OR", crate::db::bool_or_sql(conn))
}

const VISIBLE: &str = "WITH RECURSIVE roots(id, anc, trashed, depth) AS ( \
       SELECT p.id, p.parent_id, p.in_trash, 0 FROM connection_pages cp JOIN pages p ON p.id = cp.page_id \
        WHERE cp.connection_id = $1 \
          AND (p.visibility = 'workspace' OR (p.created_by = cp.added_by AND p.created_by = $2)) \
       UNION ALL \
       SELECT r.id, a.parent_id, (r.trashed OR a.in_trash), r.depth + 1 FROM roots r JOIN pages a ON a.id = r.anc \
        WHERE r.depth < 64 \
     ), \
     visible(id, trashed) AS ( \
       SELECT id, BOOL_OR(trashed) FROM roots GROUP BY id \
       UNION \
       SELECT p.id, (v.trashed OR p.in_trash) FROM pages p JOIN visible v ON p.parent_id = v.id \
        WHERE p.visibility = 'workspace' \
     ), \
     scoped(id, trashed) AS (SELECT id, BOOL_OR(trashed) FROM visible GROUP BY id) ";

/// The CTE every scoped query starts with, `$1` the connection id: the
/// connection's reachable pages as last computed (`ensure_fresh` runs
/// first). Queries drive from it into `pages` by primary key, so their
/// cost follows the shared set, not the size of the workspace.
const SCOPED: &str = "WITH RECURSIVE scoped(id, trashed) AS ( \
       SELECT page_id, trashed FROM connection_scope WHERE connection_id = $1 \
     ) ";

#[derive(QueryableByName)]
struct Versions {
    #[diesel(sql_type = BigInt)]
    built: i64,
    #[diesel(sql_type = BigInt)]
    current: i64,
}

fn versions(conn: &mut Conn, c: &ConnectionId) -> QueryResult<Option<Versions>> {
    diesel::sql_query(
        "SELECT c.scope_version AS built, w.scope_version AS current \
           FROM connections c JOIN workspaces w ON w.id = c.workspace_id WHERE c.id = $1",
    )
    .bind::<Text, _>(c.as_str())
    .get_result(conn)
    .optional()
}

/// Recomputes the connection's `connection_scope` when its workspace has
/// changed since it was last computed (triggers bump the workspace's
/// `scope_version` on every change the scope depends on): one read when
/// nothing changed, which is nearly always. The rebuild is one write
/// transaction that takes turns with any other rebuild of the connection.
pub fn ensure_fresh(conn: &mut Conn, c: &ConnectionId, installer: &UserId) -> QueryResult<()> {
    match versions(conn, c)? {
        Some(v) if v.built != v.current => {}
        // Up to date, or no such connection (nothing is in its scope).
        _ => return Ok(()),
    }
    crate::db::write_tx_with(conn, |conn| {
        crate::db::lock_key(conn, &format!("scope:{c}"))?;
        // Read again under the lock: another request may have rebuilt it,
        // and the version read here is the one the set will be as of.
        let Some(v) = versions(conn, c)? else {
            return Ok(());
        };
        if v.built == v.current {
            return Ok(());
        }
        diesel::sql_query("DELETE FROM connection_scope WHERE connection_id = $1")
            .bind::<Text, _>(c.as_str())
            .execute(conn)?;
        diesel::sql_query(format!(
            "{} INSERT INTO connection_scope (connection_id, page_id, trashed) \
             SELECT $1, id, trashed FROM scoped",
            visible(conn)
        ))
        .bind::<Text, _>(c.as_str())
        .bind::<Text, _>(installer.as_str())
        .execute(conn)?;
        // (SQLite numbers `$n` parameters in the order they first appear.)
        diesel::sql_query("UPDATE connections SET scope_version = $1 WHERE id = $2")
            .bind::<BigInt, _>(v.current)
            .bind::<Text, _>(c.as_str())
            .execute(conn)?;
        Ok(())
    })
}

/// One page, if the connection can see it.
pub fn page(
    conn: &mut Conn,
    c: &ConnectionId,
    installer: &UserId,
    id: &PageId,
) -> QueryResult<Option<ScopedPage>> {
    ensure_fresh(conn, c, installer)?;
    diesel::sql_query(format!(
        "{} SELECT pages.*, scoped.trashed AS trashed FROM scoped JOIN pages ON pages.id = scoped.id \
         WHERE scoped.id = $2",
        SCOPED
    ))
    .bind::<Text, _>(c.as_str())
    .bind::<Text, _>(id.as_str())
    .get_result(conn)
    .optional()
}

/// The live pages the connection can see above any of `ids` (each
/// page's parent, its parent, … as far as the tree goes), in one query: what
/// breadcrumbs are built from. A page above one the connection cannot see
/// may be listed; `reach::breadcrumbs` stops at the first gap.
pub fn ancestors(
    conn: &mut Conn,
    c: &ConnectionId,
    installer: &UserId,
    ids: &[&PageId],
) -> QueryResult<Vec<Page>> {
    ensure_fresh(conn, c, installer)?;
    let list = crate::db::json_text_list_sql(conn, "$2");
    let ids = serde_json::to_string(&ids.iter().map(|i| i.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into());
    diesel::sql_query(format!(
        "{}, up(id) AS ( \
           SELECT p.parent_id FROM pages p WHERE p.id IN ({list}) AND p.parent_id IS NOT NULL \
           UNION \
           SELECT p.parent_id FROM up JOIN pages p ON p.id = up.id WHERE p.parent_id IS NOT NULL \
         ) \
         SELECT pages.* FROM up JOIN scoped ON scoped.id = up.id JOIN pages ON pages.id = up.id \
         WHERE scoped.trashed = FALSE",
        SCOPED
    ))
    .bind::<Text, _>(c.as_str())
    .bind::<Text, _>(ids)
    .load(conn)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// A page of search results: title matches first (`tier` 0), then pages
/// matched by their content only (`tier` 1), each keyset-paginated on
/// (last_edited_at, id) in the asked direction.
pub struct SearchArgs<'a> {
    pub query: &'a str,
    pub descending: bool,
    /// Continue after this (tier, last_edited_at, id).
    pub after: Option<(i32, i64, String)>,
    pub limit: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct SearchHit {
    #[diesel(embed)]
    pub page: Page,
    #[diesel(sql_type = Integer)]
    pub tier: i32,
}

/// The words of a query, for the full-text match: runs of letters and
/// digits, lower-cased, at most 16 (so the match expression needs no
/// escaping on either backend).
fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

pub fn search(
    conn: &mut Conn,
    c: &ConnectionId,
    installer: &UserId,
    a: &SearchArgs<'_>,
) -> QueryResult<Vec<SearchHit>> {
    ensure_fresh(conn, c, installer)?;
    let (cmp, dir) = if a.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let (after_tier, after_t, after_id) = a.after.clone().unwrap_or((
        -1,
        if a.descending { i64::MAX } else { i64::MIN },
        String::new(),
    ));
    let words = words(a.query);
    // `$3` is the backend's match expression; with no words there is no
    // content match (every title matches the empty pattern anyway).
    let (body, expr) = if words.is_empty() {
        ("($3 = '' AND 1 = 0)".to_string(), String::new())
    } else {
        crate::db::text_match_sql(conn, "pages.id", "$3", &words)
    };
    diesel::sql_query(format!(
        "{}, hits(id, tier) AS ( \
           SELECT pages.id, CASE WHEN lower(pages.title) LIKE $2 ESCAPE '\\' THEN 0 ELSE 1 END \
             FROM scoped JOIN pages ON pages.id = scoped.id \
            WHERE scoped.trashed = FALSE \
              AND (lower(pages.title) LIKE $2 ESCAPE '\\' OR {body}) \
         ) \
         SELECT pages.*, hits.tier AS tier FROM hits JOIN pages ON pages.id = hits.id \
         WHERE hits.tier > $4 OR (hits.tier = $4 AND (pages.last_edited_at, pages.id) {cmp} ($5, $6)) \
         ORDER BY hits.tier ASC, pages.last_edited_at {dir}, pages.id {dir} LIMIT $7",
        SCOPED
    ))
    .bind::<Text, _>(c.as_str())
    .bind::<Text, _>(like_pattern(a.query))
    .bind::<Text, _>(expr)
    .bind::<Integer, _>(after_tier)
    .bind::<BigInt, _>(after_t)
    .bind::<Text, _>(if a.after.is_some() {
        after_id
    } else if a.descending {
        "\u{10FFFF}".to_string()
    } else {
        String::new()
    })
    .bind::<BigInt, _>(a.limit)
    .load(conn)
}

/// Visible, untrashed children of a visible page, by creation, after a cursor.
pub fn children(
    conn: &mut Conn,
    c: &ConnectionId,
    installer: &UserId,
    parent: &PageId,
    after: Option<(i64, String)>,
    limit: i64,
) -> QueryResult<Vec<ScopedPage>> {
    ensure_fresh(conn, c, installer)?;
    let (t, id) = after.unwrap_or((i64::MIN, String::new()));
    diesel::sql_query(format!(
        "{} SELECT pages.*, scoped.trashed AS trashed FROM scoped JOIN pages ON pages.id = scoped.id \
         WHERE scoped.trashed = FALSE AND pages.parent_id = $2 AND (pages.created_at, pages.id) > ($3, $4) \
         ORDER BY pages.created_at ASC, pages.id ASC LIMIT $5",
        SCOPED
    ))
    .bind::<Text, _>(c.as_str())
    .bind::<Text, _>(parent.as_str())
    .bind::<BigInt, _>(t)
    .bind::<Text, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Whether a page has children this connection can see (`has_children`):
/// children it cannot see are not counted, so their existence stays hidden.
pub fn has_children(
    conn: &mut Conn,
    c: &ConnectionId,
    installer: &UserId,
    id: &PageId,
) -> QueryResult<bool> {
    ensure_fresh(conn, c, installer)?;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query(format!(
        "{} SELECT COUNT(*) AS n FROM scoped JOIN pages ON pages.id = scoped.id \
         WHERE pages.parent_id = $2 AND scoped.trashed = FALSE",
        SCOPED
    ))
    .bind::<Text, _>(c.as_str())
    .bind::<Text, _>(id.as_str())
    .get_result(conn)?;
    Ok(found.n > 0)
}

/// How many untrashed pages the connection can see: the count of what
/// `search` with an empty query would list, without loading them.
pub fn count(conn: &mut Conn, c: &ConnectionId, installer: &UserId) -> QueryResult<i64> {
    ensure_fresh(conn, c, installer)?;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query(format!(
        "{} SELECT COUNT(*) AS n FROM scoped WHERE scoped.trashed = FALSE",
        SCOPED
    ))
    .bind::<Text, _>(c.as_str())
    .get_result(conn)?;
    Ok(found.n)
}

/// Updates a page's title and trash flag.
pub fn update_page(
    conn: &mut Conn,
    id: &PageId,
    title: Option<&str>,
    in_trash: Option<bool>,
    at: i64,
) -> QueryResult<usize> {
    use crate::db::schema::pages;
    let target = pages::table.find(id);
    if let Some(t) = title {
        diesel::update(target)
            .set(pages::title.eq(t))
            .execute(conn)?;
    }
    if let Some(b) = in_trash {
        diesel::update(target)
            .set(pages::in_trash.eq(b))
            .execute(conn)?;
    }
    diesel::update(target)
        .set(pages::last_edited_at.eq(at))
        .execute(conn)
}
