//! `blocked_clients`: dynamic clients an owner blocked in a workspace (S67).

use diesel::prelude::*;

use crate::db::models::{Integration, IntegrationId, UserId, WorkspaceId};
use crate::db::schema::{blocked_clients as b, integrations};
use crate::db::Conn;

/// Whether `integration` is blocked in `workspace`.
pub fn is_blocked(
    conn: &mut Conn,
    workspace: &WorkspaceId,
    integration: &IntegrationId,
) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::select(diesel::dsl::exists(
            b::table
                .filter(b::workspace_id.eq(workspace))
                .filter(b::integration_id.eq(integration)),
        ))
        .get_result(nc)
    })
}

/// Blocks a client in a workspace; returns whether it was not blocked yet.
pub fn block(
    conn: &mut Conn,
    workspace: &WorkspaceId,
    integration: &IntegrationId,
    by: &UserId,
    at: i64,
) -> QueryResult<bool> {
    let row = (
        b::workspace_id.eq(workspace),
        b::integration_id.eq(integration),
        b::blocked_by.eq(by),
        b::blocked_at.eq(at),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(b::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|n| n > 0)
}

/// Unblocks; returns whether it was blocked.
pub fn unblock(
    conn: &mut Conn,
    workspace: &WorkspaceId,
    integration: &IntegrationId,
) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::delete(
            b::table
                .filter(b::workspace_id.eq(workspace))
                .filter(b::integration_id.eq(integration)),
        )
        .execute(nc)
        .map(|n| n > 0)
    })
}

/// The clients blocked in a workspace, by name.
pub fn in_workspace(conn: &mut Conn, workspace: &WorkspaceId) -> QueryResult<Vec<Integration>> {
    crate::db::native!(conn, |nc| {
        b::table
            .inner_join(integrations::table)
            .filter(b::workspace_id.eq(workspace))
            .order(integrations::name.asc())
            .select(Integration::as_select())
            .load(nc)
    })
}
