use diesel::prelude::*;

use crate::db::models::{Page, PageId, WorkspaceId};
use crate::db::prepared::{prepared, Arg};
use crate::db::schema::pages;
use crate::db::Conn;

pub fn insert(conn: &mut Conn, page: &Page) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(pages::table)
            .values(page)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn by_id(conn: &mut Conn, id: &PageId) -> QueryResult<Option<Page>> {
    crate::db::native!(conn, |nc| {
        pages::table
            .find(id)
            .select(Page::as_select())
            .first(nc)
            .optional()
    })
}

/// Every page of the workspace that is not in the trash.
pub fn in_workspace(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<Vec<Page>> {
    crate::db::native!(conn, |nc| {
        pages::table
            .filter(pages::workspace_id.eq(ws))
            .filter(pages::in_trash.eq(false))
            .order((pages::created_at.asc(), pages::title.asc()))
            .select(Page::as_select())
            .load(nc)
    })
}

/// The page and its ancestors, nearest first: one recursive query (valid SQL
/// on SQLite and PostgreSQL alike), a cached prepared statement (it runs
/// for each page ticked on the consent page and each page shared or
/// moved).
pub fn with_ancestors(conn: &mut Conn, id: &PageId) -> QueryResult<Vec<Page>> {
    const WITH_ANCESTORS: &str = "WITH RECURSIVE chain(id, depth) AS ( \
             SELECT id, 0 FROM pages WHERE id = $1 \
             UNION ALL \
             SELECT p.parent_id, c.depth + 1 FROM pages p JOIN chain c ON p.id = c.id \
             WHERE p.parent_id IS NOT NULL AND c.depth < 64 \
         ) \
         SELECT pages.* FROM pages JOIN chain ON pages.id = chain.id ORDER BY chain.depth";
    let q = prepared(WITH_ANCESTORS).bind(Arg::Text(id.to_string()));
    crate::db::native!(conn, |nc| q.load(nc))
}

/// Marks the page edited at `at` (its content changed).
pub fn touch(conn: &mut Conn, id: &PageId, at: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(pages::table.find(id))
            .set(pages::last_edited_at.eq(at))
            .execute(nc)
    })
}
