//! Failure counters in fixed windows, keyed by what is being guessed at
//! ("login:acct:<email>", "login:ip:<addr>", "oauth:client:<id>:ip:<addr>").
//! A check is a `take`: one atomic increment that returns the new count, so
//! parallel attempts cannot all read "below the limit" and overshoot it; an
//! attempt that turns out not to be a failure (a right password, a refused
//! attempt) gives its unit back with `give_back`.

use diesel::prelude::*;

use crate::db::schema::auth_failures;
use crate::db::Conn;

/// Attempts counted for a key in its open window, and when that window opened.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Taken {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub failures: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub window_start: i64,
}

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

/// Counts one attempt in one statement (an upsert with `RETURNING`, the
/// same SQL on SQLite ≥ 3.35 and PostgreSQL) and returns the count it made:
/// the check and the record are one atomic step. A fresh window when the
/// old one has closed.
pub fn take(conn: &mut Conn, key: &str, now: i64, window_s: i64) -> QueryResult<Taken> {
    use diesel::sql_types::{BigInt, Text};
    diesel::sql_query(
        "INSERT INTO auth_failures (key, failures, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN auth_failures.window_start > $3 THEN auth_failures.failures + 1 ELSE 1 END, \
           window_start = CASE WHEN auth_failures.window_start > $3 THEN auth_failures.window_start ELSE $2 END \
         RETURNING failures, window_start",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(now - window_s)
    .get_result(conn)
}

/// Gives back the unit `take` counted in the window that opened at
/// `window_start` (a window opened since is left alone). A counter that
/// would fall to zero is deleted instead, so only keys that failed hold a
/// row, and the usual case (a success with no failure before it) is one
/// statement.
pub fn give_back(conn: &mut Conn, key: &str, window_start: i64) -> QueryResult<()> {
    let this = auth_failures::table
        .find(key)
        .filter(auth_failures::window_start.eq(window_start));
    if diesel::delete(this.filter(auth_failures::failures.le(1))).execute(conn)? == 0 {
        diesel::update(this.filter(auth_failures::failures.gt(1)))
            .set(auth_failures::failures.eq(auth_failures::failures - 1))
            .execute(conn)?;
    }
    Ok(())
}

/// Counts one failure (a `take` whose count nobody needs).
pub fn record_failure(conn: &mut Conn, key: &str, now: i64, window_s: i64) -> QueryResult<()> {
    take(conn, key, now, window_s).map(|_| ())
}

pub fn clear(conn: &mut Conn, key: &str) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.find(key)).execute(conn)
}

/// Deletes the rows whose window closed more than `keep_s` ago. Callers
/// run it when a failure they keep opened a window (a new key, or a closed
/// window reopened), so the table holds only the keys guessed at in the
/// longest window; the index on `window_start` keeps it a range delete.
pub fn purge_closed(conn: &mut Conn, now: i64, keep_s: i64) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.filter(auth_failures::window_start.le(now - keep_s)))
        .execute(conn)
}
