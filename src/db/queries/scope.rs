//! What a connection can see, computed by one recursive query when it
//! changes and kept in `connection_scope`: the pages shared with it and
//! their descendants.
//! A private page reaches a connection only when its creator shared that
//! page itself (and installed the connection); sharing a page never carries
//! private descendants along. `trashed` is true when the page or any
//! ancestor — inside the shared tree or above it — is in the trash.
//!
//! The reads on every scoped request (versions, a page, children, counts)
//! are diesel DSL, so each connection prepares them once and keeps them in
//! its statement cache. Raw SQL is left where the DSL cannot go: the
//! recursive rebuild and ancestors, and search's full-text match. Each is
//! a constant per backend (and, for search, per direction), bound with
//! parameters; nothing is formatted into SQL at run time. Search and
//! ancestors, which run on every search, go through `db::prepared`, so
//! they are cached prepared statements too (issue 30); the rebuild, which
//! runs once per workspace change, stays a plain `sql_query`.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::db::models::{ConnectionId, Page, PageId, UserId};
use crate::db::prepared::{prepared, Arg};
use crate::db::schema::{connection_scope, connections, pages, workspaces};
use crate::db::Conn;

#[derive(Debug, Clone)]
pub struct ScopedPage {
    pub page: Page,
    pub trashed: bool,
}

/// `connection_scope` joined to `pages` by primary key: what every scoped
/// read starts from, filtered on the connection first, so its cost follows
/// the shared set, not the size of the workspace (`ensure_fresh` runs
/// first).
macro_rules! scoped_pages {
    ($c:expr) => {
        connection_scope::table
            .inner_join(pages::table.on(pages::id.eq(connection_scope::page_id)))
            .filter(connection_scope::connection_id.eq($c))
    };
}

/// Computes a connection's scope from the pages and shares into
/// `connection_scope`; `$1` connection id, `$2` installer. A recursive
/// query, which diesel's DSL cannot write. `roots` walks up from each
/// shared page to collect trash from its ancestors, `visible` down to its
/// workspace-visible descendants; `scoped` holds each reachable page once.
/// The two backends' texts differ only in the boolean aggregate (SQLite
/// has no `bool_or`; `MAX` of 0/1 is the same), put in by `concat!` when
/// compiling, so nothing is formatted at run time.
macro_rules! rebuild_sql {
    ($bool_or:literal) => {
        concat!(
            "WITH RECURSIVE roots(id, anc, trashed, depth) AS ( \
               SELECT p.id, p.parent_id, p.in_trash, 0 FROM connection_pages cp JOIN pages p ON p.id = cp.page_id \
                WHERE cp.connection_id = $1 \
                  AND (p.visibility = 'workspace' OR (p.created_by = cp.added_by AND p.created_by = $2)) \
               UNION ALL \
               SELECT r.id, a.parent_id, (r.trashed OR a.in_trash), r.depth + 1 FROM roots r JOIN pages a ON a.id = r.anc \
                WHERE r.depth < 64 \
             ), \
             visible(id, trashed) AS ( \
               SELECT id, ",
            $bool_or,
            "(trashed) FROM roots GROUP BY id \
               UNION \
               SELECT p.id, (v.trashed OR p.in_trash) FROM pages p JOIN visible v ON p.parent_id = v.id \
                WHERE p.visibility = 'workspace' \
             ), \
             scoped(id, trashed) AS (SELECT id, ",
            $bool_or,
            "(trashed) FROM visible GROUP BY id) \
             INSERT INTO connection_scope (connection_id, page_id, trashed) \
             SELECT $1, id, trashed FROM scoped"
        )
    };
}
const REBUILD_SQLITE: &str = rebuild_sql!("MAX");
const REBUILD_PG: &str = rebuild_sql!("bool_or");

/// The workspace version the connection's set was computed at, and the
/// workspace's current one.
fn versions(conn: &mut Conn, c: &ConnectionId) -> QueryResult<Option<(i64, i64)>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .inner_join(workspaces::table)
            .filter(connections::id.eq(c))
            .select((connections::scope_version, workspaces::scope_version))
            .get_result(nc)
            .optional()
    })
}

/// Recomputes the connection's `connection_scope` when its workspace has
/// changed since it was last computed (triggers bump the workspace's
/// `scope_version` on every change the scope depends on): one read when
/// nothing changed, which is nearly always. The rebuild is one write
/// transaction that takes turns with any other rebuild of the connection.
pub fn ensure_fresh(conn: &mut Conn, c: &ConnectionId, installer: &UserId) -> QueryResult<()> {
    match versions(conn, c)? {
        Some((built, current)) if built != current => {}
        // Up to date, or no such connection (nothing is in its scope).
        _ => return Ok(()),
    }
    crate::db::write_tx_with(conn, |conn| {
        crate::db::lock_key(conn, &format!("scope:{c}"))?;
        // Read again under the lock: another request may have rebuilt it,
        // and the version read here is the one the set will be as of.
        let Some((built, current)) = versions(conn, c)? else {
            return Ok(());
        };
        if built == current {
            return Ok(());
        }
        diesel::delete(connection_scope::table.filter(connection_scope::connection_id.eq(c)))
            .execute(conn)?;
        diesel::sql_query(crate::db::per_backend(conn, REBUILD_SQLITE, REBUILD_PG))
            .bind::<Text, _>(c.as_str())
            .bind::<Text, _>(installer.as_str())
            .execute(conn)?;
        diesel::update(connections::table.find(c))
            .set(connections::scope_version.eq(current))
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
    scoped_pages!(c)
        .filter(connection_scope::page_id.eq(id))
        .select((Page::as_select(), connection_scope::trashed))
        .get_result(conn)
        .optional()
        .map(|found| found.map(|(page, trashed)| ScopedPage { page, trashed }))
}

/// The ancestors query: `$1` connection id, `$2` a JSON array of page ids
/// (the pages themselves are listed too).
/// Recursive (each page's parent, its parent, …), which diesel's DSL cannot
/// write; the backends differ only in how the bound JSON array becomes rows.
/// (SQLite numbers `$n` parameters in the order they first appear, so `$1`
/// comes first in the text.)
macro_rules! ancestors_sql {
    ($list:literal) => {
        concat!(
            "WITH RECURSIVE scoped(id, trashed) AS ( \
               SELECT page_id, trashed FROM connection_scope WHERE connection_id = $1 \
             ), \
             up(id) AS ( \
               SELECT p.id FROM pages p WHERE p.id IN (",
            $list,
            ") \
               UNION \
               SELECT p.parent_id FROM up JOIN pages p ON p.id = up.id WHERE p.parent_id IS NOT NULL \
             ) \
             SELECT pages.* FROM up JOIN scoped ON scoped.id = up.id JOIN pages ON pages.id = up.id \
             WHERE scoped.trashed = FALSE"
        )
    };
}
const ANCESTORS_SQLITE: &str = ancestors_sql!("SELECT value AS v FROM json_each($2)");
const ANCESTORS_PG: &str =
    ancestors_sql!("SELECT v FROM json_array_elements_text($2::json) AS t(v)");

/// The live pages the connection can see among `ids` and above them (each
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
    let ids = serde_json::to_string(&ids.iter().map(|i| i.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into());
    let q = prepared(crate::db::per_backend(conn, ANCESTORS_SQLITE, ANCESTORS_PG))
        .bind(Arg::Text(c.to_string()))
        .bind(Arg::Text(ids));
    // On the backend's own connection the text is rendered once (for the
    // statement cache's key), not once more by the multi-connection.
    crate::db::native!(conn, |nc| q.load(nc))
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

/// The search query: `$1` connection id, `$2` the title match (see
/// `title_match`), `$3` the backend's full-text match expression,
/// `$4`..`$6` the cursor (tier, last_edited_at, id), `$7` the limit. Raw
/// SQL because the content match is FTS5 on SQLite and a tsvector on
/// PostgreSQL, which diesel's DSL cannot write. One text per backend,
/// direction and kind of match, put together by `concat!` when compiling:
/// `$title` is the title condition, `$body` the content condition,
/// `$cmp`/`$dir` the keyset comparison and order.
macro_rules! search_sql {
    ($title:expr, $body:expr, $cmp:literal, $dir:literal) => {
        concat!(
            "WITH RECURSIVE scoped(id, trashed) AS ( \
               SELECT page_id, trashed FROM connection_scope WHERE connection_id = $1 \
             ), \
             hits(id, tier) AS ( \
               SELECT pages.id, CASE WHEN ",
            $title,
            " THEN 0 ELSE 1 END \
                 FROM scoped JOIN pages ON pages.id = scoped.id \
                WHERE scoped.trashed = FALSE \
                  AND (",
            $title,
            " OR ",
            $body,
            ") \
             ) \
             SELECT pages.*, hits.tier AS tier FROM hits JOIN pages ON pages.id = hits.id \
             WHERE hits.tier > $4 OR (hits.tier = $4 AND (pages.last_edited_at, pages.id) ",
            $cmp,
            " ($5, $6)) \
             ORDER BY hits.tier ASC, pages.last_edited_at ",
            $dir,
            ", pages.id ",
            $dir,
            " LIMIT $7"
        )
    };
}

/// No words: no content match (every title matches the empty pattern
/// anyway); `$3` is still bound, so it is named.
macro_rules! no_text_match {
    () => {
        "($3 = '' AND 1 = 0)"
    };
}

/// The full-text match of block text: true when the page has a live block
/// containing every word (as a word prefix). It is correlated on the page,
/// so its cost follows the connection's scoped pages, not how many blocks
/// in the whole database match: SQLite seeks the FTS5 index `blocks_fts`
/// by rowid for each of the page's blocks, PostgreSQL may use the GIN
/// index `blocks_search` or the page's blocks.
macro_rules! sqlite_text_match {
    () => {
        "EXISTS (SELECT 1 FROM blocks b JOIN blocks_fts ON blocks_fts.rowid = b.seq \
         WHERE b.page_id = pages.id AND b.in_trash = FALSE AND blocks_fts MATCH $3)"
    };
}
macro_rules! pg_text_match {
    () => {
        "EXISTS (SELECT 1 FROM blocks b WHERE b.page_id = pages.id AND b.in_trash = FALSE \
         AND to_tsvector('simple', b.plain_text) @@ to_tsquery('simple', $3))"
    };
}

/// The title match. On SQLite `instr` of the lower-cased query, because a
/// `LIKE` whose pattern is a bound parameter marks the statement for a new
/// parse and plan each time the parameter is bound (SQLite's LIKE
/// optimisation reads the pattern while planning), which made every
/// search prepare its statement again: a quarter of a search's CPU time.
/// PostgreSQL keeps `LIKE` on the escaped pattern. Both are a literal,
/// case-folded substring match (SQLite's `lower` folds ASCII only, as its
/// `LIKE` did).
macro_rules! sqlite_title_match {
    () => {
        "instr(lower(pages.title), $2) > 0"
    };
}
macro_rules! pg_title_match {
    () => {
        "lower(pages.title) LIKE $2 ESCAPE '\\'"
    };
}

const SEARCH_SQLITE_TITLES_ASC: &str =
    search_sql!(sqlite_title_match!(), no_text_match!(), ">", "ASC");
const SEARCH_SQLITE_TITLES_DESC: &str =
    search_sql!(sqlite_title_match!(), no_text_match!(), "<", "DESC");
const SEARCH_PG_TITLES_ASC: &str = search_sql!(pg_title_match!(), no_text_match!(), ">", "ASC");
const SEARCH_PG_TITLES_DESC: &str = search_sql!(pg_title_match!(), no_text_match!(), "<", "DESC");
const SEARCH_SQLITE_ASC: &str =
    search_sql!(sqlite_title_match!(), sqlite_text_match!(), ">", "ASC");
const SEARCH_SQLITE_DESC: &str =
    search_sql!(sqlite_title_match!(), sqlite_text_match!(), "<", "DESC");
const SEARCH_PG_ASC: &str = search_sql!(pg_title_match!(), pg_text_match!(), ">", "ASC");
const SEARCH_PG_DESC: &str = search_sql!(pg_title_match!(), pg_text_match!(), "<", "DESC");

pub fn search(
    conn: &mut Conn,
    c: &ConnectionId,
    installer: &UserId,
    a: &SearchArgs<'_>,
) -> QueryResult<Vec<SearchHit>> {
    ensure_fresh(conn, c, installer)?;
    let (after_tier, after_t, after_id) = a.after.clone().unwrap_or((
        -1,
        if a.descending { i64::MAX } else { i64::MIN },
        String::new(),
    ));
    let words = words(a.query);
    let sql = match (words.is_empty(), a.descending) {
        (true, false) => {
            crate::db::per_backend(conn, SEARCH_SQLITE_TITLES_ASC, SEARCH_PG_TITLES_ASC)
        }
        (true, true) => {
            crate::db::per_backend(conn, SEARCH_SQLITE_TITLES_DESC, SEARCH_PG_TITLES_DESC)
        }
        (false, false) => crate::db::per_backend(conn, SEARCH_SQLITE_ASC, SEARCH_PG_ASC),
        (false, true) => crate::db::per_backend(conn, SEARCH_SQLITE_DESC, SEARCH_PG_DESC),
    };
    let after_id = if a.after.is_some() {
        after_id
    } else if a.descending {
        "\u{10FFFF}".to_string()
    } else {
        String::new()
    };
    let q = prepared(sql)
        .bind(Arg::Text(c.to_string()))
        .bind(Arg::Text(crate::db::per_backend(
            conn,
            a.query.to_lowercase(),
            like_pattern(a.query),
        )))
        .bind(Arg::Text(crate::db::text_match_expr(conn, &words)))
        .bind(Arg::Integer(after_tier))
        .bind(Arg::BigInt(after_t))
        .bind(Arg::Text(after_id))
        .bind(Arg::BigInt(a.limit));
    crate::db::native!(conn, |nc| q.load(nc))
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
    scoped_pages!(c)
        .filter(connection_scope::trashed.eq(false))
        .filter(pages::parent_id.eq(parent))
        // (created_at, id) > (t, id), spelled out: the DSL has no row values.
        .filter(
            pages::created_at
                .gt(t)
                .or(pages::created_at.eq(t).and(pages::id.gt(id))),
        )
        .order((pages::created_at.asc(), pages::id.asc()))
        .limit(limit)
        .select((Page::as_select(), connection_scope::trashed))
        .load::<(Page, bool)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(page, trashed)| ScopedPage { page, trashed })
                .collect()
        })
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
    let n: i64 = scoped_pages!(c)
        .filter(pages::parent_id.eq(id))
        .filter(connection_scope::trashed.eq(false))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// How many untrashed pages the connection can see: the count of what
/// `search` with an empty query would list, without loading them.
pub fn count(conn: &mut Conn, c: &ConnectionId, installer: &UserId) -> QueryResult<i64> {
    ensure_fresh(conn, c, installer)?;
    connection_scope::table
        .filter(connection_scope::connection_id.eq(c))
        .filter(connection_scope::trashed.eq(false))
        .count()
        .get_result(conn)
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
