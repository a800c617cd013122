//! One-time notes already opened (`http::once`).

use diesel::prelude::*;

use crate::db::schema::used_notes;
use crate::db::Conn;

/// Records `id` as opened; false if it already was (a replay). Purges
/// the rows of notes that have expired anyway.
pub fn open_once(conn: &mut Conn, id: &str, expires_at: i64, now: i64) -> QueryResult<bool> {
    diesel::delete(used_notes::table.filter(used_notes::expires_at.le(now))).execute(conn)?;
    let row = (used_notes::id.eq(id), used_notes::expires_at.eq(expires_at));
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(used_notes::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}
