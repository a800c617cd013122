//! `workspace add`, `workspace add-member`, `workspace remove-member`,
//! `workspace set-role`, `page add`, `page show` and `audit`.

use serde_json::json;

use super::args::{emit, page_id};
use crate::db::models::{Plan, Role};
use crate::db::{self, Conn};
use crate::domain::audit::Actor;
use crate::domain::content::{Author, BlockContent, BlockType, Span};
use crate::domain::workspaces::{self as ws, NewPage};
use crate::domain::{accounts, audit, members};
use crate::domain::{blocks, markdown};
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

/// `page add`'s flags.
pub(super) struct PageAdd<'a> {
    pub workspace: &'a str,
    pub title: &'a str,
    pub parent: Option<&'a str>,
    pub private: bool,
    pub owner: Option<&'a str>,
    pub content: Option<&'a std::path::Path>,
}

/// Reads a Markdown file into blocks; a missing or non-UTF-8 file is an error.
fn read_markdown(path: &std::path::Path) -> AppResult<Vec<BlockContent>> {
    let bytes = std::fs::read(path)
        .map_err(|e| AppError::invalid(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| AppError::invalid(format!("{} is not UTF-8 text", path.display())))?;
    Ok(markdown::to_blocks(&text))
}

/// `page add`: creates a page, by `owner` or else the workspace's first
/// owner, with the content of a Markdown file written by that creator.
pub(super) fn page_add(c: &mut Conn, a: PageAdd<'_>, json: bool) -> AppResult<()> {
    // The file is read before anything is written.
    let content = a
        .content
        .map(read_markdown)
        .transpose()?
        .unwrap_or_default();
    let w = ws::find_workspace(c, a.workspace)?;
    let parent = a.parent.map(page_id).transpose()?;
    let creator = match a.owner {
        Some(o) => accounts::find_user(c, o)?,
        None => ws::acting_owner(c, &w)?,
    };
    let new = NewPage {
        workspace: &w,
        title: a.title,
        parent: parent.as_ref(),
        private: a.private,
        creator: &creator,
    };
    // One transaction: a page never appears without its content.
    let page = db::write_tx(c, |c| {
        let page = ws::add_page(c, new)?;
        blocks::append(c, &page.id, &Author::User(creator.id.clone()), &content)?;
        Ok(page)
    })?;
    emit(
        json,
        json!({"id": page.id, "page_id": page.id, "workspace_id": w.id, "parent_id": page.parent_id, "title": page.title, "visibility": page.visibility, "blocks": content.len()}),
        &[format!(
            "Created page {:?}, id {}, with {} block(s)",
            page.title,
            page.id,
            content.len()
        )],
    );
    Ok(())
}

/// `page show`: a page's title and content; as Markdown with `--markdown`.
pub(super) fn page_show(c: &mut Conn, id: &str, as_markdown: bool, json: bool) -> AppResult<()> {
    let page = ws::find_page(c, &page_id(id)?)?;
    let content = blocks::content_of(c, &page.id)?;
    let title = BlockContent::new(BlockType::Heading1, vec![Span::plain(page.title.clone())]);
    let text = format!(
        "{}{}{}",
        markdown::to_markdown(std::slice::from_ref(&title)),
        if content.is_empty() { "" } else { "\n" },
        markdown::to_markdown(&content)
    );
    let human = if as_markdown {
        vec![text.trim_end().to_owned()]
    } else {
        vec![
            format!("{} ({})", page.title, page.id),
            format!(
                "workspace {}, {} block(s)",
                page.workspace_id,
                content.len()
            ),
        ]
    };
    emit(
        json,
        json!({"id": page.id, "page_id": page.id, "workspace_id": page.workspace_id, "title": page.title, "blocks": content.len(), "markdown": text}),
        &human,
    );
    Ok(())
}

/// `audit`: a workspace's audit events, newest first.
pub(super) fn audit(c: &mut Conn, workspace: &str, csv: bool, json: bool) -> AppResult<()> {
    let w = ws::find_workspace(c, workspace)?;
    let events = audit::for_workspace(c, &w.id)?;
    if csv && json {
        return Err(AppError::invalid("Choose one of --csv and --json."));
    }
    if csv {
        let out = audit::to_csv(c, events, crate::http::layout::format_time)?;
        use std::io::Write;
        return std::io::stdout()
            .write_all(&out)
            .map_err(|e| AppError::internal(format!("stdout: {e}")));
    }
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
