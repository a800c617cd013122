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

/// Counts one failure in one statement (an upsert), so concurrent failures
/// on several instances all count: a fresh window when the old one has closed.
pub fn record_failure(conn: &mut Conn, key: &str, now: i64, window_s: i64) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Text};
    diesel::sql_query(
        "INSERT INTO auth_failures (key, failures, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN auth_failures.window_start > $3 THEN auth_failures.failures + 1 ELSE 1 END, \
           window_start = CASE WHEN auth_failures.window_start > $3 THEN auth_failures.window_start ELSE $2 END",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(now - window_s)
    .execute(conn)
    .map(|_| ())
}

pub fn clear(conn: &mut Conn, key: &str) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.find(key)).execute(conn)
}
