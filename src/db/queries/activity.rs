//! `connection_activity`: a connection's reads (one row per page, op and
//! hour, counted up by upsert) and writes (one row each).

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::models::{
    Activity, ActivityKind, ActivityOp, ActivitySurface, ConnectionId, NewActivity, PageId, UserId,
    Visibility,
};
use crate::db::schema::{connection_activity as ca, connections, pages};
use crate::db::Conn;

/// Adds a read bucket's count to its row (made on the first flush of its
/// hour): one statement per bucket.
pub fn add_read(conn: &mut Conn, row: &NewActivity) -> QueryResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(ca::table)
        .values(row)
        .on_conflict(ca::read_key)
        .do_update()
        .set((
            ca::count.eq(ca::count + excluded(ca::count)),
            ca::last_at.eq(excluded(ca::last_at)),
        ))
        .execute(c))
    .map(|_| ())
}

pub fn add_write(conn: &mut Conn, row: &NewActivity) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(ca::table)
            .values(row)
            .execute(nc)
            .map(|_| ())
    })
}

/// Which of `ids` are connections still stored.
pub fn live_connections(conn: &mut Conn, ids: &[&ConnectionId]) -> QueryResult<Vec<ConnectionId>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .filter(connections::id.eq_any(ids))
            .select(connections::id)
            .load(nc)
    })
}

/// Which of `ids` are pages still stored.
pub fn live_pages(conn: &mut Conn, ids: &[&PageId]) -> QueryResult<Vec<PageId>> {
    crate::db::native!(conn, |nc| {
        pages::table
            .filter(pages::id.eq_any(ids))
            .select(pages::id)
            .load(nc)
    })
}

/// What a list of activity is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<ActivityKind>,
    pub surface: Option<ActivitySurface>,
    pub op: Option<ActivityOp>,
}

/// A row with its page's title, visibility and creator.
pub type Listed = (Activity, String, Visibility, UserId);

/// A connection's activity, newest first (`at`, then `id`), strictly
/// after the `(at, id)` cursor, at most `limit` rows.
pub fn page_of(
    conn: &mut Conn,
    connection: &ConnectionId,
    before: Option<(i64, i32)>,
    limit: i64,
    f: &Filter,
) -> QueryResult<Vec<Listed>> {
    let mut q = ca::table
        .inner_join(pages::table)
        .filter(ca::connection_id.eq(connection))
        .into_boxed();
    if let Some((at, id)) = before {
        q = q.filter(ca::at.lt(at).or(ca::at.eq(at).and(ca::id.lt(id))));
    }
    if let Some(k) = f.kind {
        q = q.filter(ca::kind.eq(k));
    }
    if let Some(s) = f.surface {
        q = q.filter(ca::surface.eq(s));
    }
    if let Some(o) = f.op {
        q = q.filter(ca::op.eq(o));
    }
    q.order((ca::at.desc(), ca::id.desc()))
        .limit(limit)
        .select((
            Activity::as_select(),
            pages::title,
            pages::visibility,
            pages::created_by,
        ))
        .load(conn)
}

/// Deletes rows from before `cutoff`; how many.
pub fn purge_before(conn: &mut Conn, cutoff: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(ca::table.filter(ca::at.lt(cutoff))).execute(nc)
    })
}
