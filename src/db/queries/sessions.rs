use diesel::prelude::*;

use crate::db::models::{Session, User, UserId};
use crate::db::schema::{sessions, users};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, session: &Session) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)
        .map(|_| ())
}

/// The live session with this id hash and its user.
pub fn live(conn: &mut Conn, id_hash: &str, now: i64) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id_hash))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut Conn, id_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)
}

pub fn delete_for_user(conn: &mut Conn, user: &UserId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(conn)
}

pub fn delete_expired(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}
