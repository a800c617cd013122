use diesel::prelude::*;

use crate::db::models::{
    Connection, ConnectionId, ConnectionPage, ConnectionStatus, InternalToken, PageId, User,
    UserId, Workspace,
};
use crate::db::schema::{connection_pages, connections, internal_tokens};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, c: &Connection) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(connections::table)
            .values(c)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn by_id(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Option<Connection>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .find(id)
            .select(Connection::as_select())
            .first(nc)
            .optional()
    })
}

/// A connection, its workspace and the user who installed it: what a
/// grant's token response names, read with the code or refresh token in
/// one statement (`oauth::code_with_grantee`, `tokens::refresh_with_grantee`;
/// issue 30: the grant path read them one by one, four round trips on
/// PostgreSQL).
pub type Grantee = (Connection, Workspace, User);

pub fn insert_internal_token(conn: &mut Conn, t: &InternalToken) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(internal_tokens::table)
            .values(t)
            .execute(nc)
            .map(|_| ())
    })
}

/// Shares a page with a connection; sharing it twice changes nothing.
pub fn add_page(conn: &mut Conn, cp: &ConnectionPage) -> QueryResult<bool> {
    crate::on_backend!(conn, |c| diesel::insert_into(connection_pages::table)
        .values(cp)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|n| n > 0)
}

pub fn page_ids(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Vec<PageId>> {
    crate::db::native!(conn, |nc| {
        connection_pages::table
            .filter(connection_pages::connection_id.eq(id))
            .select(connection_pages::page_id)
            .load(nc)
    })
}

/// The pages shared with a connection, with who shared each.
pub fn shares(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Vec<ConnectionPage>> {
    crate::db::native!(conn, |nc| {
        connection_pages::table
            .filter(connection_pages::connection_id.eq(id))
            .select(ConnectionPage::as_select())
            .load(nc)
    })
}

/// The connection this user installed for this integration in this workspace.
pub fn find_installed(
    conn: &mut Conn,
    integration: &crate::db::models::IntegrationId,
    workspace: &crate::db::models::WorkspaceId,
    installer: &crate::db::models::UserId,
) -> QueryResult<Option<Connection>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .filter(connections::integration_id.eq(integration))
            .filter(connections::workspace_id.eq(workspace))
            .filter(connections::installed_by.eq(installer))
            .select(Connection::as_select())
            .first(nc)
            .optional()
    })
}

/// Re-activates a connection (re-consent after a revoke keeps its bot_id).
pub fn reactivate(conn: &mut Conn, id: &ConnectionId) -> QueryResult<usize> {
    diesel::update(connections::table.find(id))
        .set((
            connections::status.eq(ConnectionStatus::Active),
            connections::revoked_at.eq(None::<i64>),
            connections::revoked_by.eq(None::<crate::db::models::UserId>),
        ))
        .execute(conn)
}

/// Replaces the pages shared with a connection by `pages`.
pub fn replace_pages(
    conn: &mut Conn,
    id: &ConnectionId,
    pages: &[ConnectionPage],
) -> QueryResult<()> {
    // The same pages shared by the same people (a reconnect that changes
    // nothing) write nothing, so the connection's reachable set stays valid.
    let mut now: Vec<(PageId, UserId)> = connection_pages::table
        .filter(connection_pages::connection_id.eq(id))
        .select((connection_pages::page_id, connection_pages::added_by))
        .load(conn)?;
    let mut wanted: Vec<(PageId, UserId)> = pages
        .iter()
        .map(|p| (p.page_id.clone(), p.added_by.clone()))
        .collect();
    now.sort();
    wanted.sort();
    wanted.dedup();
    if now == wanted {
        return Ok(());
    }
    diesel::delete(connection_pages::table.filter(connection_pages::connection_id.eq(id)))
        .execute(conn)?;
    crate::on_backend!(conn, |c| diesel::insert_into(connection_pages::table)
        .values(pages)
        .execute(c))
    .map(|_| ())
}

pub fn is_approved(
    conn: &mut Conn,
    workspace: &crate::db::models::WorkspaceId,
    integration: &crate::db::models::IntegrationId,
) -> QueryResult<bool> {
    use crate::db::schema::approved_integrations as a;
    diesel::select(diesel::dsl::exists(
        a::table
            .filter(a::workspace_id.eq(workspace))
            .filter(a::integration_id.eq(integration)),
    ))
    .get_result(conn)
}

/// Puts an integration on a workspace's approved list (again: no change).
pub fn approve(
    conn: &mut Conn,
    workspace: &crate::db::models::WorkspaceId,
    integration: &crate::db::models::IntegrationId,
    by: &crate::db::models::UserId,
    at: i64,
) -> QueryResult<()> {
    use crate::db::schema::approved_integrations as a;
    let row = (
        a::workspace_id.eq(workspace),
        a::integration_id.eq(integration),
        a::approved_by.eq(by),
        a::approved_at.eq(at),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(a::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|_| ())
}

/// Marks a connection revoked (its tokens are revoked by the token module).
pub fn mark_revoked(
    conn: &mut Conn,
    id: &ConnectionId,
    by: Option<&crate::db::models::UserId>,
    at: i64,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(
            connections::table
                .find(id)
                .filter(connections::status.eq(ConnectionStatus::Active)),
        )
        .set((
            connections::status.eq(ConnectionStatus::Revoked),
            connections::revoked_at.eq(Some(at)),
            connections::revoked_by.eq(by.cloned()),
        ))
        .execute(nc)
    })
}

/// Active connections of a workspace with their integration, newest first;
/// only those `installer` added when given.
pub fn active_in_workspace(
    conn: &mut Conn,
    workspace: &crate::db::models::WorkspaceId,
    installer: Option<&crate::db::models::UserId>,
) -> QueryResult<Vec<(Connection, crate::db::models::Integration)>> {
    use crate::db::models::Integration;
    use crate::db::schema::integrations;
    let mut q = connections::table
        .inner_join(integrations::table)
        .filter(connections::workspace_id.eq(workspace))
        .filter(connections::status.eq(ConnectionStatus::Active))
        .into_boxed();
    if let Some(u) = installer {
        q = q.filter(connections::installed_by.eq(u.clone()));
    }
    q.order((connections::created_at.desc(), connections::id.asc()))
        .select((Connection::as_select(), Integration::as_select()))
        .load(conn)
}

/// Stops sharing a page with a connection; false when it was not shared directly.
pub fn remove_page(conn: &mut Conn, id: &ConnectionId, page: &PageId) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::delete(
            connection_pages::table
                .filter(connection_pages::connection_id.eq(id))
                .filter(connection_pages::page_id.eq(page)),
        )
        .execute(nc)
        .map(|n| n > 0)
    })
}

pub fn unapprove(
    conn: &mut Conn,
    workspace: &crate::db::models::WorkspaceId,
    integration: &crate::db::models::IntegrationId,
) -> QueryResult<usize> {
    use crate::db::schema::approved_integrations as a;
    diesel::delete(
        a::table
            .filter(a::workspace_id.eq(workspace))
            .filter(a::integration_id.eq(integration)),
    )
    .execute(conn)
}

/// The integrations on a workspace's approved list.
pub fn approved(
    conn: &mut Conn,
    workspace: &crate::db::models::WorkspaceId,
) -> QueryResult<Vec<crate::db::models::Integration>> {
    use crate::db::models::Integration;
    use crate::db::schema::{approved_integrations as a, integrations};
    a::table
        .inner_join(integrations::table)
        .filter(a::workspace_id.eq(workspace))
        .order(integrations::name.asc())
        .select(Integration::as_select())
        .load(conn)
}

/// The encrypted copy of an internal connection's token, if it has one.
pub fn internal_token_sealed(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Option<String>> {
    crate::db::native!(conn, |nc| {
        internal_tokens::table
            .find(id)
            .select(internal_tokens::encrypted)
            .first(nc)
            .optional()
    })
}

/// Notes that someone other than the installer has been shown the token.
pub fn mark_token_shown(conn: &mut Conn, id: &ConnectionId) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::update(internal_tokens::table.find(id))
            .set(internal_tokens::shown_to_others.eq(true))
            .execute(nc)
            .map(drop)
    })
}

/// Whether the connection has an internal token someone other than its
/// installer has been shown.
pub fn token_shown_to_others(conn: &mut Conn, id: &ConnectionId) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        Ok(internal_tokens::table
            .find(id)
            .select(internal_tokens::shown_to_others)
            .first::<bool>(nc)
            .optional()?
            .unwrap_or(false))
    })
}

/// Replaces a connection's internal token (the old one stops working at
/// commit); the new one has been shown to no one but the installer.
pub fn replace_internal_token(conn: &mut Conn, t: &InternalToken) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::update(internal_tokens::table.find(&t.connection_id))
            .set((
                internal_tokens::hash.eq(&t.hash),
                internal_tokens::encrypted.eq(&t.encrypted),
                internal_tokens::created_at.eq(t.created_at),
                internal_tokens::shown_to_others.eq(false),
            ))
            .execute(nc)
            .map(drop)
    })
}

/// The connections of one integration, any status (an internal integration has one).
pub fn for_integration(
    conn: &mut Conn,
    id: &crate::db::models::IntegrationId,
) -> QueryResult<Vec<Connection>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .filter(connections::integration_id.eq(id))
            .order(connections::created_at.asc())
            .select(Connection::as_select())
            .load(nc)
    })
}

/// When the connection last called `/mcp`, if it ever did.
pub fn mcp_used_at(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Option<i64>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .find(id)
            .select(connections::mcp_last_used_at)
            .first::<Option<i64>>(nc)
            .optional()
            .map(Option::flatten)
    })
}

/// Sets when the connection last called `/mcp`, unless a later call within
/// the minute already did.
pub fn touch_mcp(conn: &mut Conn, id: &ConnectionId, at: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(
            connections::table.find(id).filter(
                connections::mcp_last_used_at
                    .is_null()
                    .or(connections::mcp_last_used_at.lt(at - 60)),
            ),
        )
        .set(connections::mcp_last_used_at.eq(at))
        .execute(nc)
    })
}

/// When each of these connections last called `/mcp`, for those that did.
pub fn mcp_last_used(
    conn: &mut Conn,
    ids: &[ConnectionId],
) -> QueryResult<Vec<(ConnectionId, i64)>> {
    crate::db::native!(conn, |nc| {
        connections::table
            .filter(connections::id.eq_any(ids))
            .filter(connections::mcp_last_used_at.is_not_null())
            .select((
                connections::id,
                connections::mcp_last_used_at.assume_not_null(),
            ))
            .load(nc)
    })
}
