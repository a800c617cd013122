use diesel::prelude::*;

use crate::db::models::{Session, User, UserId};
use crate::db::schema::{sessions, users};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, session: &Session) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(sessions::table)
            .values(session)
            .execute(nc)
            .map(|_| ())
    })
}

/// The live session with this id hash and its user.
pub fn live(conn: &mut Conn, id_hash: &str, now: i64) -> QueryResult<Option<(Session, User)>> {
    crate::db::native!(conn, |nc| {
        sessions::table
            .inner_join(users::table)
            .filter(sessions::id_hash.eq(id_hash))
            .filter(sessions::expires_at.gt(now))
            .select((Session::as_select(), User::as_select()))
            .first(nc)
            .optional()
    })
}

pub fn delete(conn: &mut Conn, id_hash: &str) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(sessions::table.find(id_hash)).execute(nc)
    })
}

pub fn delete_for_user(conn: &mut Conn, user: &UserId) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(nc)
    })
}

pub fn delete_expired(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(nc)
    })
}

/// Ends a user's oldest sessions beyond `keep` others than `newest`.
pub fn trim_for_user(
    conn: &mut Conn,
    user: &UserId,
    newest: &str,
    keep: i64,
) -> QueryResult<usize> {
    let older: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user))
        .filter(sessions::id_hash.ne(newest))
        .order((sessions::created_ms.desc(), sessions::id_hash.desc()))
        .offset(keep)
        .select(sessions::id_hash)
        .load(conn)?;
    if older.is_empty() {
        return Ok(0);
    }
    diesel::delete(sessions::table.filter(sessions::id_hash.eq_any(older))).execute(conn)
}

/// One person's live sessions, the newest first.
pub fn live_for_user(conn: &mut Conn, user: &UserId, now: i64) -> QueryResult<Vec<Session>> {
    crate::db::native!(conn, |nc| {
        sessions::table
            .filter(sessions::user_id.eq(user))
            .filter(sessions::expires_at.gt(now))
            .order((sessions::created_ms.desc(), sessions::id_hash.desc()))
            .select(Session::as_select())
            .load(nc)
    })
}

/// Marks a session used now, from this browser and address.
pub fn touch(
    conn: &mut Conn,
    id_hash: &str,
    user_agent: &str,
    address: &str,
    at: i64,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(sessions::table.find(id_hash))
            .set((
                sessions::user_agent.eq(user_agent),
                sessions::address.eq(address),
                sessions::last_seen_at.eq(at),
            ))
            .execute(nc)
    })
}

/// Records that the session's person proved who they are at `at`.
pub fn set_proved(conn: &mut Conn, id_hash: &str, at: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(sessions::table.find(id_hash))
            .set(sessions::proved_at.eq(at))
            .execute(nc)
    })
}

/// Ends every session of `user` but `keep`.
pub fn delete_others(conn: &mut Conn, user: &UserId, keep: &str) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user))
                .filter(sessions::id_hash.ne(keep)),
        )
        .execute(nc)
    })
}
