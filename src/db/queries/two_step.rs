//! Two-step verification: TOTP secrets, recovery codes, logins waiting for
//! their second step, and the workspaces that require it.

use diesel::prelude::*;

use crate::db::models::{PendingLogin, TwoStep, UserId, WorkspaceId};
use crate::db::schema::{pending_logins, recovery_codes, two_step, two_step_required};
use crate::db::Conn;

pub fn of_user(conn: &mut Conn, user: &UserId) -> QueryResult<Option<TwoStep>> {
    crate::db::native!(conn, |nc| {
        two_step::table
            .find(user)
            .select(TwoStep::as_select())
            .first(nc)
            .optional()
    })
}

/// Whether the user has two-step verification turned on.
pub fn enabled(conn: &mut Conn, user: &UserId) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::select(diesel::dsl::exists(
            two_step::table
                .filter(two_step::user_id.eq(user))
                .filter(two_step::enabled_at.is_not_null()),
        ))
        .get_result(nc)
    })
}

/// Replaces any earlier (pending or enabled) secret of the user.
pub fn put(conn: &mut Conn, row: &TwoStep) -> QueryResult<()> {
    delete(conn, &row.user_id)?;
    diesel::insert_into(two_step::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn enable(conn: &mut Conn, user: &UserId, at: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(two_step::table.find(user))
            .set(two_step::enabled_at.eq(Some(at)))
            .execute(nc)
    })
}

/// Records `step` as used if it is later than the last one: false if this
/// step (or a later one) was already accepted, so a code is accepted once
/// even by two requests at the same moment.
pub fn use_step(conn: &mut Conn, user: &UserId, step: i64) -> QueryResult<bool> {
    let n = diesel::update(
        two_step::table
            .filter(two_step::user_id.eq(user))
            .filter(two_step::last_step.lt(step)),
    )
    .set(two_step::last_step.eq(step))
    .execute(conn)?;
    Ok(n == 1)
}

/// Turns two-step verification off: the secret and the recovery codes go.
pub fn delete(conn: &mut Conn, user: &UserId) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)?;
    diesel::delete(two_step::table.find(user)).execute(conn)
}

/// Replaces the user's recovery codes with these hashes.
pub fn set_recovery(conn: &mut Conn, user: &UserId, hashes: &[String], at: i64) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)?;
    // One row at a time: the multi-backend connection has no batch insert.
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::code_hash.eq(h),
                recovery_codes::user_id.eq(user),
                recovery_codes::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Spends a recovery code of this user: false if there is none unused.
pub fn use_recovery(conn: &mut Conn, user: &UserId, hash: &str, at: i64) -> QueryResult<bool> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::user_id.eq(user))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Unused recovery codes the user has left.
pub fn recovery_left(conn: &mut Conn, user: &UserId) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| {
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(nc)
    })
}

pub fn insert_pending(conn: &mut Conn, row: &PendingLogin) -> QueryResult<()> {
    diesel::delete(
        pending_logins::table.filter(pending_logins::expires_at.le(row.expires_at - 3600)),
    )
    .execute(conn)?;
    diesel::insert_into(pending_logins::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The live pending login with this id hash.
pub fn pending(conn: &mut Conn, id_hash: &str, now: i64) -> QueryResult<Option<PendingLogin>> {
    crate::db::native!(conn, |nc| {
        pending_logins::table
            .find(id_hash)
            .filter(pending_logins::expires_at.gt(now))
            .select(PendingLogin::as_select())
            .first(nc)
            .optional()
    })
}

/// Consumes a pending login: false if another request already did.
pub fn take_pending(conn: &mut Conn, id_hash: &str) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        Ok(diesel::delete(pending_logins::table.find(id_hash)).execute(nc)? == 1)
    })
}

pub fn required(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::select(diesel::dsl::exists(two_step_required::table.find(ws))).get_result(nc)
    })
}

pub fn set_required(
    conn: &mut Conn,
    ws: &WorkspaceId,
    by: &UserId,
    on: bool,
    at: i64,
) -> QueryResult<usize> {
    diesel::delete(two_step_required::table.find(ws)).execute(conn)?;
    if !on {
        return Ok(0);
    }
    diesel::insert_into(two_step_required::table)
        .values((
            two_step_required::workspace_id.eq(ws),
            two_step_required::set_by.eq(Some(by)),
            two_step_required::set_at.eq(at),
        ))
        .execute(conn)
}
