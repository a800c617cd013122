//! Passkeys and passkey ceremonies in progress (`domain::passkeys`).

use diesel::prelude::*;

use crate::db::models::{PasskeyChallenge, PasskeyId, PasskeyPurpose, PasskeyRow, UserId};
use crate::db::schema::{passkey_challenges, passkeys};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, row: &PasskeyRow) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(passkeys::table)
            .values(row)
            .execute(nc)
            .map(|_| ())
    })
}

/// A person's passkeys, oldest first.
pub fn for_user(conn: &mut Conn, user: &UserId) -> QueryResult<Vec<PasskeyRow>> {
    crate::db::native!(conn, |nc| {
        passkeys::table
            .filter(passkeys::user_id.eq(user))
            .order((passkeys::created_at.asc(), passkeys::id.asc()))
            .select(PasskeyRow::as_select())
            .load(nc)
    })
}

pub fn by_cred_id(conn: &mut Conn, cred_id: &str) -> QueryResult<Option<PasskeyRow>> {
    crate::db::native!(conn, |nc| {
        passkeys::table
            .filter(passkeys::cred_id.eq(cred_id))
            .select(PasskeyRow::as_select())
            .first(nc)
            .optional()
    })
}

pub fn by_id(conn: &mut Conn, user: &UserId, id: &PasskeyId) -> QueryResult<Option<PasskeyRow>> {
    crate::db::native!(conn, |nc| {
        passkeys::table
            .filter(passkeys::id.eq(id))
            .filter(passkeys::user_id.eq(user))
            .select(PasskeyRow::as_select())
            .first(nc)
            .optional()
    })
}

/// After a sign-in: the credential as updated (counter, backup flags) and
/// when it was used.
pub fn record_use(
    conn: &mut Conn,
    id: &PasskeyId,
    credential: &str,
    counter: i64,
    at: i64,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(passkeys::table.filter(passkeys::id.eq(id)))
            .set((
                passkeys::credential.eq(credential),
                passkeys::counter.eq(counter),
                passkeys::last_used_at.eq(Some(at)),
            ))
            .execute(nc)
    })
}

pub fn delete(conn: &mut Conn, user: &UserId, id: &PasskeyId) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(
            passkeys::table
                .filter(passkeys::id.eq(id))
                .filter(passkeys::user_id.eq(user)),
        )
        .execute(nc)
    })
}

/// Stores a ceremony's state; purges the expired ones first.
pub fn insert_challenge(conn: &mut Conn, row: &PasskeyChallenge, now: i64) -> QueryResult<()> {
    diesel::delete(passkey_challenges::table.filter(passkey_challenges::expires_at.le(now)))
        .execute(conn)?;
    diesel::insert_into(passkey_challenges::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Takes a ceremony's state out (it is deleted, so it answers once):
/// `None` unless it is for `purpose`, bound to `bound_to` and unexpired.
pub fn take_challenge(
    conn: &mut Conn,
    id: &str,
    purpose: PasskeyPurpose,
    bound_to: &str,
    now: i64,
) -> QueryResult<Option<PasskeyChallenge>> {
    let found = passkey_challenges::table
        .filter(passkey_challenges::id.eq(id))
        .filter(passkey_challenges::purpose.eq(purpose))
        .filter(passkey_challenges::bound_to.eq(bound_to))
        .select(PasskeyChallenge::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = found else { return Ok(None) };
    let gone = diesel::delete(passkey_challenges::table.filter(passkey_challenges::id.eq(id)))
        .execute(conn)?;
    Ok((gone == 1 && row.expires_at > now).then_some(row))
}

/// Keeps at most `keep` ceremonies bound to one session or login page,
/// ending the oldest (a page reloaded many times leaves no pile behind).
pub fn trim_bound(conn: &mut Conn, bound_to: &str, keep: i64) -> QueryResult<usize> {
    let old: Vec<String> = passkey_challenges::table
        .filter(passkey_challenges::bound_to.eq(bound_to))
        .order((
            passkey_challenges::expires_at.desc(),
            passkey_challenges::id.asc(),
        ))
        .offset(keep)
        .select(passkey_challenges::id)
        .load(conn)?;
    diesel::delete(passkey_challenges::table.filter(passkey_challenges::id.eq_any(old)))
        .execute(conn)
}
