//! Page access requests (`domain::access_requests`).

use diesel::prelude::*;

use crate::db::models::{
    AccessRequest, AccessRequestId, AccessRequestState, ConnectionId, ConnectionStatus, UserId,
    WorkspaceId,
};
use crate::db::schema::{access_requests, connections, integrations};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, r: &AccessRequest) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(access_requests::table)
            .values(r)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn by_id(conn: &mut Conn, id: &AccessRequestId) -> QueryResult<Option<AccessRequest>> {
    crate::db::native!(conn, |nc| {
        access_requests::table
            .find(id)
            .select(AccessRequest::as_select())
            .first(nc)
            .optional()
    })
}

/// Marks the connection's pending requests whose time ran out `expired`.
pub fn expire(conn: &mut Conn, connection: &ConnectionId, at: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(
            access_requests::table
                .filter(access_requests::connection_id.eq(connection))
                .filter(access_requests::state.eq(AccessRequestState::Pending))
                .filter(access_requests::expires_at.le(at)),
        )
        .set(access_requests::state.eq(AccessRequestState::Expired))
        .execute(nc)
    })
}

/// How many pending requests the connection holds.
pub fn pending_count(conn: &mut Conn, connection: &ConnectionId) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| {
        access_requests::table
            .filter(access_requests::connection_id.eq(connection))
            .filter(access_requests::state.eq(AccessRequestState::Pending))
            .count()
            .get_result(nc)
    })
}

/// When the connection's latest request was declined, if one was.
pub fn last_declined(conn: &mut Conn, connection: &ConnectionId) -> QueryResult<Option<i64>> {
    crate::db::native!(conn, |nc| {
        access_requests::table
            .filter(access_requests::connection_id.eq(connection))
            .filter(access_requests::state.eq(AccessRequestState::Declined))
            .select(diesel::dsl::max(access_requests::answered_at))
            .first::<Option<i64>>(nc)
    })
}

/// The unexpired pending requests on the active connections of `ws`
/// (those `installer` made, when given), newest first, with the client's
/// name: what Settings → Connections lists (at most 50).
pub fn waiting_in(
    conn: &mut Conn,
    ws: &WorkspaceId,
    installer: Option<&UserId>,
    at: i64,
) -> QueryResult<Vec<(AccessRequest, String)>> {
    let mut q = access_requests::table
        .inner_join(connections::table.inner_join(integrations::table))
        .filter(connections::workspace_id.eq(ws))
        .filter(connections::status.eq(ConnectionStatus::Active))
        .filter(access_requests::state.eq(AccessRequestState::Pending))
        .filter(access_requests::expires_at.gt(at))
        .into_boxed();
    if let Some(u) = installer {
        q = q.filter(connections::installed_by.eq(u));
    }
    q.order(access_requests::created_at.desc())
        .limit(50)
        .select((AccessRequest::as_select(), integrations::name))
        .load(conn)
}

/// Answers a pending request; false when it was no longer pending (another
/// answer came first), so nothing is answered twice.
pub fn answer(
    conn: &mut Conn,
    id: &AccessRequestId,
    state: AccessRequestState,
    pages: &str,
    by: &UserId,
    at: i64,
) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::update(
            access_requests::table
                .find(id)
                .filter(access_requests::state.eq(AccessRequestState::Pending)),
        )
        .set((
            access_requests::state.eq(state),
            access_requests::pages.eq(pages),
            access_requests::answered_by.eq(Some(by)),
            access_requests::answered_at.eq(Some(at)),
        ))
        .execute(nc)
        .map(|n| n == 1)
    })
}
