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
#[derive(Debug, Clone, Copy, Queryable)]
pub struct Taken {
    pub failures: i32,
    pub window_start: i64,
}

/// Failures recorded for `key` in the window that is still open, and when it opened.
pub fn current(
    conn: &mut Conn,
    key: &str,
    now: i64,
    window_s: i64,
) -> QueryResult<Option<(i32, i64)>> {
    crate::db::native!(conn, |nc| {
        auth_failures::table
            .find(key)
            .filter(auth_failures::window_start.gt(now - window_s))
            .select((auth_failures::failures, auth_failures::window_start))
            .first(nc)
            .optional()
    })
}

/// A key's open window, as `open_windows` reads it.
#[derive(Debug, Clone, QueryableByName)]
pub struct OpenWindow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub key: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub failures: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub window_start: i64,
}

/// `current` for several keys, three to a statement (a client
/// authentication names at most three: its address, its client and
/// address, its guess budget), so the check is one round trip on
/// PostgreSQL. A constant text diesel caches; a short chunk repeats its
/// first key.
pub fn open_windows(
    conn: &mut Conn,
    keys: &[&str],
    now: i64,
    window_s: i64,
) -> QueryResult<Vec<OpenWindow>> {
    use crate::db::prepared::{prepared, Arg};
    let mut open = Vec::new();
    for chunk in keys.chunks(3) {
        let key = |i: usize| Arg::Text(chunk.get(i).unwrap_or(&chunk[0]).to_string());
        let q = prepared(
            "SELECT key, failures, window_start FROM auth_failures \
             WHERE key IN ($1, $2, $3) AND window_start > $4",
        )
        .bind(key(0))
        .bind(key(1))
        .bind(key(2))
        .bind(Arg::BigInt(now - window_s));
        open.extend(crate::db::native!(conn, |nc| q.load::<OpenWindow>(nc))?);
    }
    Ok(open)
}

/// Counts one attempt in one statement (an upsert with `RETURNING`, which
/// SQLite ≥ 3.35 and PostgreSQL both run) and returns the count it made:
/// the check and the record are one atomic step. A fresh window when the
/// old one has closed. (In `DO UPDATE SET`, `auth_failures.*` is the row
/// as it was, on both backends.)
pub fn take(conn: &mut Conn, key: &str, now: i64, window_s: i64) -> QueryResult<Taken> {
    use auth_failures::{failures, window_start};
    use diesel::dsl::case_when;
    let open = window_start.gt(now - window_s);
    crate::on_backend!(conn, |c| diesel::insert_into(auth_failures::table)
        .values((
            auth_failures::key.eq(key),
            failures.eq(1),
            window_start.eq(now)
        ))
        .on_conflict(auth_failures::key)
        .do_update()
        .set((
            failures.eq(case_when(open, failures + 1).otherwise(1)),
            window_start.eq(case_when(open, window_start).otherwise(now)),
        ))
        .returning((failures, window_start))
        .get_result(c))
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

pub fn clear(conn: &mut Conn, key: &str) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(auth_failures::table.find(key)).execute(nc)
    })
}

/// Deletes the rows whose window closed more than `keep_s` ago. Callers
/// run it when a failure they keep opened a window (a new key, or a closed
/// window reopened), so the table holds only the keys guessed at in the
/// longest window; the index on `window_start` keeps it a range delete.
pub fn purge_closed(conn: &mut Conn, now: i64, keep_s: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(auth_failures::table.filter(auth_failures::window_start.le(now - keep_s)))
            .execute(nc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_counts_in_the_open_window_and_opens_a_fresh_one_after_it() {
        let mut conn = crate::db::connect(":memory:").unwrap();
        crate::db::migrate(&mut conn).unwrap();
        let t = take(&mut conn, "k", 1000, 60).unwrap();
        assert_eq!((t.failures, t.window_start), (1, 1000));
        let t = take(&mut conn, "k", 1059, 60).unwrap();
        assert_eq!((t.failures, t.window_start), (2, 1000));
        let t = take(&mut conn, "k", 1060, 60).unwrap();
        assert_eq!((t.failures, t.window_start), (1, 1060));
        assert_eq!(current(&mut conn, "k", 1061, 60).unwrap(), Some((1, 1060)));
    }
}
