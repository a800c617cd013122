//! Failure counters in fixed windows, keyed by what is being guessed at
//! ("login:acct:<email>", "login:ip:<addr>").

use diesel::prelude::*;

use crate::db::schema::auth_failures;
use crate::db::Conn;

/// Failures recorded for `key` in the window that is still open, and when it opened.
pub fn current(
    conn: &mut Conn,
    key: &str,
    now: i64,
    window_s: i64,
) -> QueryResult<Option<(i32, i64)>> {
    auth_failures::table
        .find(key)
        .filter(auth_failures::window_start.gt(now - window_s))
        .select((auth_failures::failures, auth_failures::window_start))
        .first(conn)
        .optional()
}

/// Counts one failure: a fresh window when the old one has closed.
pub fn record_failure(conn: &mut Conn, key: &str, now: i64, window_s: i64) -> QueryResult<()> {
    crate::db::write_tx_with(conn, |conn| {
        match current(conn, key, now, window_s)? {
            Some(_) => diesel::update(auth_failures::table.find(key))
                .set(auth_failures::failures.eq(auth_failures::failures + 1))
                .execute(conn)?,
            None => diesel::replace_into(auth_failures::table)
                .values((
                    auth_failures::key.eq(key),
                    auth_failures::failures.eq(1),
                    auth_failures::window_start.eq(now),
                ))
                .execute(conn)?,
        };
        Ok(())
    })
}

pub fn clear(conn: &mut Conn, key: &str) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.find(key)).execute(conn)
}
