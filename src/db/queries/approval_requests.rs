//! `approval_requests`: members asking the owners of an Enterprise
//! workspace to approve an integration (issue 27 item 3). One row per
//! (workspace, integration, member), so at most one is pending.

use diesel::prelude::*;

use crate::db::models::{ApprovalRequest, ApprovalStatus, IntegrationId, UserId, WorkspaceId};
use crate::db::schema::approval_requests as r;
use crate::db::Conn;

pub fn get(
    conn: &mut Conn,
    ws: &WorkspaceId,
    integration: &IntegrationId,
    user: &UserId,
) -> QueryResult<Option<ApprovalRequest>> {
    crate::db::native!(conn, |nc| {
        r::table
            .filter(r::workspace_id.eq(ws))
            .filter(r::integration_id.eq(integration))
            .filter(r::requested_by.eq(user))
            .select(ApprovalRequest::as_select())
            .first(nc)
            .optional()
    })
}

/// Writes a new pending request over the member's earlier, answered one.
/// Callers hold a transaction.
pub fn put_pending(conn: &mut Conn, row: &ApprovalRequest) -> QueryResult<()> {
    diesel::delete(
        r::table
            .filter(r::workspace_id.eq(&row.workspace_id))
            .filter(r::integration_id.eq(&row.integration_id))
            .filter(r::requested_by.eq(&row.requested_by)),
    )
    .execute(conn)?;
    diesel::insert_into(r::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The workspace's pending requests, oldest first.
pub fn pending_in(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<Vec<ApprovalRequest>> {
    crate::db::native!(conn, |nc| {
        r::table
            .filter(r::workspace_id.eq(ws))
            .filter(r::status.eq(ApprovalStatus::Pending))
            .order((r::requested_at.asc(), r::requested_by.asc()))
            .select(ApprovalRequest::as_select())
            .load(nc)
    })
}

/// Answers pending requests: one member's (`user`), or every member's
/// for that integration (`None`). Returns how many it answered.
pub fn answer(
    conn: &mut Conn,
    ws: &WorkspaceId,
    integration: &IntegrationId,
    user: Option<&UserId>,
    status: ApprovalStatus,
    by: &UserId,
    at: i64,
) -> QueryResult<usize> {
    let set = (
        r::status.eq(status),
        r::answered_by.eq(Some(by)),
        r::answered_at.eq(Some(at)),
    );
    let pending = r::table
        .filter(r::workspace_id.eq(ws))
        .filter(r::integration_id.eq(integration))
        .filter(r::status.eq(ApprovalStatus::Pending));
    match user {
        Some(u) => diesel::update(pending.filter(r::requested_by.eq(u)))
            .set(set)
            .execute(conn),
        None => diesel::update(pending).set(set).execute(conn),
    }
}
