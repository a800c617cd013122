//! Invitations to a workspace (`domain::invitations`).

use diesel::prelude::*;

use crate::db::models::{Invitation, InvitationId, InvitationState, UserId, WorkspaceId};
use crate::db::schema::invitations;
use crate::db::Conn;

pub fn insert(conn: &mut Conn, inv: &Invitation) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(invitations::table)
            .values(inv)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn by_token_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<Invitation>> {
    crate::db::native!(conn, |nc| {
        invitations::table
            .filter(invitations::token_hash.eq(hash))
            .select(Invitation::as_select())
            .first(nc)
            .optional()
    })
}

pub fn by_id(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: &InvitationId,
) -> QueryResult<Option<Invitation>> {
    crate::db::native!(conn, |nc| {
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::workspace_id.eq(ws))
            .select(Invitation::as_select())
            .first(nc)
            .optional()
    })
}

/// The pending invitation of `ws` for `email`, expired or not.
pub fn pending_for(
    conn: &mut Conn,
    ws: &WorkspaceId,
    email: &str,
) -> QueryResult<Option<Invitation>> {
    crate::db::native!(conn, |nc| {
        invitations::table
            .filter(invitations::workspace_id.eq(ws))
            .filter(invitations::email.eq(email))
            .filter(invitations::state.eq(InvitationState::Pending))
            .select(Invitation::as_select())
            .first(nc)
            .optional()
    })
}

/// The pending invitations of `ws` that have not expired, newest first.
pub fn live(conn: &mut Conn, ws: &WorkspaceId, now: i64) -> QueryResult<Vec<Invitation>> {
    crate::db::native!(conn, |nc| {
        invitations::table
            .filter(invitations::workspace_id.eq(ws))
            .filter(invitations::state.eq(InvitationState::Pending))
            .filter(invitations::expires_at.gt(now))
            .order((invitations::created_at.desc(), invitations::id.asc()))
            .select(Invitation::as_select())
            .load(nc)
    })
}

/// How many invitations `ws` made since `since` (any state).
pub fn made_since(conn: &mut Conn, ws: &WorkspaceId, since: i64) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| {
        invitations::table
            .filter(invitations::workspace_id.eq(ws))
            .filter(invitations::created_at.ge(since))
            .count()
            .get_result(nc)
    })
}

/// Ends a pending invitation (accepted, revoked, replaced): true if it was
/// still pending, so two uses of one link cannot both win.
pub fn end(
    conn: &mut Conn,
    id: &InvitationId,
    state: InvitationState,
    at: i64,
    accepted_by: Option<&UserId>,
) -> QueryResult<bool> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::state.eq(InvitationState::Pending)),
    )
    .set((
        invitations::state.eq(state),
        invitations::ended_at.eq(Some(at)),
        invitations::accepted_by.eq(accepted_by),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records who an accepted invitation made (once their row exists).
pub fn set_accepted_by(conn: &mut Conn, id: &InvitationId, user: &UserId) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(invitations::table.filter(invitations::id.eq(id)))
            .set(invitations::accepted_by.eq(Some(user)))
            .execute(nc)
    })
}

/// Forgets the invitations of `ws` that ended or expired before `before`:
/// their links then read as unknown instead of used or expired.
pub fn purge_old(conn: &mut Conn, ws: &WorkspaceId, before: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(
            invitations::table
                .filter(invitations::workspace_id.eq(ws))
                .filter(
                    invitations::ended_at
                        .lt(before)
                        .or(invitations::expires_at.lt(before)),
                ),
        )
        .execute(nc)
    })
}
