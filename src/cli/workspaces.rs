//! `workspace add`, `workspace add-member`, `workspace remove-member`,
//! `workspace set-role`, `page add` and `audit`.

use serde_json::json;

use super::{emit, page_id};
use crate::db::models::{Plan, Role};
use crate::db::Conn;
use crate::domain::audit::Actor;
use crate::domain::workspaces::{self as ws, NewPage};
use crate::domain::{accounts, audit, members};
use crate::error::{AppError, AppResult};

/// `workspace add`: creates a workspace owned by a user.
pub(super) fn add(c: &mut Conn, name: &str, owner: &str, plan: &str, json: bool) -> AppResult<()> {
    let plan = Plan::parse(plan).ok_or_else(|| {
        AppError::invalid(format!("unknown plan {plan:?}; choose {}", Plan::choices()))
    })?;
    let owner = accounts::find_user(c, owner)?;
    let w = ws::create_workspace(c, name, &owner, plan)?;
    emit(
        json,
        json!({"id": w.id, "workspace_id": w.id, "name": w.name, "plan": w.plan, "owner_id": owner.id}),
        &[format!(
            "Created workspace {:?} ({} plan), id {}, owned by {}",
            w.name, w.plan, w.id, owner.email
        )],
    );
    Ok(())
}

/// `workspace add-member`: adds a user to a workspace with a role.
pub(super) fn add_member(
    c: &mut Conn,
    workspace: &str,
    email: &str,
    role: &str,
    json: bool,
) -> AppResult<()> {
    let role = parse_role(role)?;
    let w = ws::find_workspace(c, workspace)?;
    let user = accounts::find_user(c, email)?;
    ws::add_member(c, &w, &user, role)?;
    emit(
        json,
        json!({"id": w.id, "workspace_id": w.id, "user_id": user.id, "role": role.as_str()}),
        &[format!("Added {} to {:?} as {}", user.email, w.name, role)],
    );
    Ok(())
}

fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role).ok_or_else(|| {
        AppError::invalid(format!("unknown role {role:?}; choose {}", Role::choices()))
    })
}

/// `workspace remove-member`: removes a user; their connections there end.
pub(super) fn remove_member(
    c: &mut Conn,
    workspace: &str,
    email: &str,
    json: bool,
) -> AppResult<()> {
    let w = ws::find_workspace(c, workspace)?;
    let user = accounts::find_user(c, email)?;
    let removed = members::remove(c, &w, Actor::System, None, &user.id).map_err(|e| match e {
        AppError::NotFound => {
            AppError::invalid(format!("{} is not a member of {:?}", user.email, w.name))
        }
        e => e,
    })?;
    emit(
        json,
        json!({"id": w.id, "workspace_id": w.id, "user_id": user.id, "connections_ended": removed.connections}),
        &[format!(
            "Removed {} from {:?}; {} connection(s) ended",
            user.email, w.name, removed.connections
        )],
    );
    Ok(())
}

/// `workspace set-role`: makes a member an owner or an owner a member.
pub(super) fn set_role(
    c: &mut Conn,
    workspace: &str,
    email: &str,
    role: &str,
    json: bool,
) -> AppResult<()> {
    let role = parse_role(role)?;
    let w = ws::find_workspace(c, workspace)?;
    let user = accounts::find_user(c, email)?;
    let (_, changed) =
        members::set_role(c, &w, Actor::System, &user.id, role).map_err(|e| match e {
            AppError::NotFound => {
                AppError::invalid(format!("{} is not a member of {:?}", user.email, w.name))
            }
            e => e,
        })?;
    emit(
        json,
        json!({"id": w.id, "workspace_id": w.id, "user_id": user.id, "role": role.as_str(), "changed": changed}),
        &[if changed {
            format!("{} is now {} of {:?}", user.email, role, w.name)
        } else {
            format!("{} already is {} of {:?}", user.email, role, w.name)
        }],
    );
    Ok(())
}

/// `page add`: creates a page, by `owner` or else the workspace's first owner.
pub(super) fn page_add(
    c: &mut Conn,
    workspace: &str,
    title: &str,
    parent: Option<&str>,
    private: bool,
    owner: Option<&str>,
    json: bool,
) -> AppResult<()> {
    let w = ws::find_workspace(c, workspace)?;
    let parent = parent.map(page_id).transpose()?;
    let creator = match owner {
        Some(o) => accounts::find_user(c, o)?,
        None => ws::acting_owner(c, &w)?,
    };
    let new = NewPage {
        workspace: &w,
        title,
        parent: parent.as_ref(),
        private,
        creator: &creator,
    };
    let page = ws::add_page(c, new)?;
    emit(
        json,
        json!({"id": page.id, "page_id": page.id, "workspace_id": w.id, "parent_id": page.parent_id, "title": page.title, "visibility": page.visibility}),
        &[format!("Created page {:?}, id {}", page.title, page.id)],
    );
    Ok(())
}

/// `audit`: a workspace's audit events, newest first.
pub(super) fn audit(c: &mut Conn, workspace: &str, json: bool) -> AppResult<()> {
    let w = ws::find_workspace(c, workspace)?;
    let events = audit::for_workspace(c, &w.id)?;
    let human: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{}  {:<24} actor={} target={} {}",
                e.at,
                e.action,
                e.actor.as_deref().unwrap_or("-"),
                e.target,
                e.detail
            )
        })
        .collect();
    emit(
        json,
        json!({"id": w.id, "workspace_id": w.id, "events": events}),
        &human,
    );
    Ok(())
}
