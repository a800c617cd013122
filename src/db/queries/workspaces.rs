use diesel::prelude::*;

use crate::db::models::{InstallPolicy, Membership, Role, User, UserId, Workspace, WorkspaceId};
use crate::db::schema::{memberships, users, workspaces};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, ws: &Workspace) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(workspaces::table)
            .values(ws)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn insert_membership(conn: &mut Conn, m: &Membership) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(memberships::table)
            .values(m)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn by_id(conn: &mut Conn, id: &WorkspaceId) -> QueryResult<Option<Workspace>> {
    crate::db::native!(conn, |nc| {
        workspaces::table
            .find(id)
            .select(Workspace::as_select())
            .first(nc)
            .optional()
    })
}

pub fn by_name(conn: &mut Conn, name: &str) -> QueryResult<Vec<Workspace>> {
    crate::db::native!(conn, |nc| {
        workspaces::table
            .filter(workspaces::name.eq(name))
            .select(Workspace::as_select())
            .load(nc)
    })
}

/// The workspace's `tree_version` (bumped by triggers whenever the page
/// tree the picker shows changes), or `None` when there is no such
/// workspace.
pub fn tree_version(conn: &mut Conn, id: &WorkspaceId) -> QueryResult<Option<i64>> {
    crate::db::native!(conn, |nc| {
        workspaces::table
            .find(id)
            .select(workspaces::tree_version)
            .first(nc)
            .optional()
    })
}

/// The user's workspaces with their role, in the order they joined.
pub fn for_user(conn: &mut Conn, user: &UserId) -> QueryResult<Vec<(Workspace, Role)>> {
    crate::db::native!(conn, |nc| {
        workspaces::table
            .inner_join(memberships::table)
            .filter(memberships::user_id.eq(user))
            .order((memberships::joined_at.asc(), workspaces::name.asc()))
            .select((Workspace::as_select(), memberships::role))
            .load(nc)
    })
}

pub fn membership(
    conn: &mut Conn,
    ws: &WorkspaceId,
    user: &UserId,
) -> QueryResult<Option<Membership>> {
    crate::db::native!(conn, |nc| {
        memberships::table
            .find((ws, user))
            .select(Membership::as_select())
            .first(nc)
            .optional()
    })
}

/// Who acts for the workspace when no user is named: its creator while an
/// owner of it, else the earliest owner by (joined_at, user id).
pub fn acting_owner(conn: &mut Conn, ws: &Workspace) -> QueryResult<Option<UserId>> {
    if let Some(creator) = &ws.created_by {
        let still_owner = memberships::table
            .filter(memberships::workspace_id.eq(&ws.id))
            .filter(memberships::user_id.eq(creator))
            .filter(memberships::role.eq(Role::Owner))
            .select(memberships::user_id)
            .first::<UserId>(conn)
            .optional()?;
        if still_owner.is_some() {
            return Ok(still_owner);
        }
    }
    memberships::table
        .filter(memberships::workspace_id.eq(&ws.id))
        .filter(memberships::role.eq(Role::Owner))
        .order((memberships::joined_at.asc(), memberships::user_id.asc()))
        .select(memberships::user_id)
        .first(conn)
        .optional()
}

/// Sets the Enterprise install restriction and the first-party auto-approval.
pub fn set_install_policy(
    conn: &mut Conn,
    ws: &WorkspaceId,
    policy: InstallPolicy,
    auto_approve_first_party: bool,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(workspaces::table.find(ws))
            .set((
                workspaces::install_policy.eq(policy),
                workspaces::auto_approve_first_party.eq(auto_approve_first_party),
            ))
            .execute(nc)
    })
}

/// Everyone in a workspace with their membership, in the order they joined.
pub fn members(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<Vec<(Membership, User)>> {
    crate::db::native!(conn, |nc| {
        memberships::table
            .inner_join(users::table)
            .filter(memberships::workspace_id.eq(ws))
            .order((memberships::joined_at.asc(), users::email.asc()))
            .select((Membership::as_select(), User::as_select()))
            .load(nc)
    })
}

/// How many owners a workspace has.
pub fn count_owners(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| {
        memberships::table
            .filter(memberships::workspace_id.eq(ws))
            .filter(memberships::role.eq(Role::Owner))
            .count()
            .get_result(nc)
    })
}

pub fn set_role(
    conn: &mut Conn,
    ws: &WorkspaceId,
    user: &UserId,
    role: Role,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(memberships::table.find((ws, user)))
            .set(memberships::role.eq(role))
            .execute(nc)
    })
}

pub fn delete_membership(conn: &mut Conn, ws: &WorkspaceId, user: &UserId) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(memberships::table.find((ws, user))).execute(nc)
    })
}
