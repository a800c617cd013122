//! Page access requests (issue 29 item 1): an agent, mid-task, asks the
//! person who connected it for more pages — the MCP tool `request_access`
//! or `POST /v1/access_requests` — and gets a URL, `{issuer}/requests/{id}`.
//! The person who made the connection (or a workspace owner) opens it, ticks
//! pages in the consent page's picker and presses **Share**, or
//! **Decline**. Sharing adds the pages to the *existing* connection through
//! `connections::change_page` (its member, private-page and install-policy
//! rules, its `connection.page_added` audit), so no new token is issued and
//! the agent's next call sees them (the connection's scope is rebuilt when
//! its workspace's `scope_version` moves). The agent polls the request's
//! state on its own connection only.
//!
//! Not to be confused with `approval_requests` (a member asking the owners
//! to approve an integration under the Enterprise install policy).
//!
//! Bounds (S100, S101): the reason is at most `REASON_MAX` characters of
//! the agent's own words (shown escaped, marked as its words), the search
//! words `SEARCH_MAX`; a request expires after `agents.request_ttl_s`; a
//! connection holds at most `agents.max_pending_requests` pending ones and
//! may not ask again for `agents.decline_cooldown_s` after a **Decline**.

use crate::config::AgentsConfig;
use crate::crypto::SecretBox;
use crate::db::models::{
    now, AccessRequest, AccessRequestId, AccessRequestState, Connection, ConnectionId,
    ConnectionStatus, Integration, PageId, RequestVia, Role, UserId, Workspace,
};
use crate::db::queries::{access_requests as q, connections, integrations, pages};
use crate::db::{self, Conn};
use crate::domain::accounts::name_of;
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::connections::{change_page, ByMember, PageChange};
use crate::domain::workspaces::{role_in, visible_tree, TreeRow};
use crate::error::{AppError, AppResult, Refusal};

/// The longest reason an agent may give, in characters.
pub const REASON_MAX: usize = 500;
/// The longest search words an agent may give, in characters.
pub const SEARCH_MAX: usize = 200;

/// The page a person answers a request on.
pub fn url(issuer: &str, id: &AccessRequestId) -> String {
    format!("{issuer}/requests/{id}")
}

/// The ids of the pages a **Share** added.
pub fn shared_pages(r: &AccessRequest) -> Vec<String> {
    r.pages.split_whitespace().map(str::to_string).collect()
}

fn invalid(m: impl Into<String>) -> AppError {
    AppError::Refused(Refusal::Invalid(m.into()))
}

/// Printable text of at most `max` characters (a reason may hold line
/// breaks; nothing else that is a control character).
fn bounded(what: &str, text: &str, max: usize, lines: bool) -> AppResult<String> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(invalid(format!(
            "The {what} is too long: at most {max} characters."
        )));
    }
    if text
        .chars()
        .any(|ch| ch.is_control() && !(lines && (ch == '\n' || ch == '\t')))
    {
        return Err(invalid(format!(
            "The {what} may not hold control characters."
        )));
    }
    Ok(text.to_string())
}

/// What a connection asks for.
pub struct Ask<'a> {
    pub via: RequestVia,
    /// The agent's words: why it needs more pages.
    pub reason: &'a str,
    /// Words to pre-fill the picker's search with.
    pub search: &'a str,
}

/// A new pending request on `connection` (S100, S101).
pub fn ask(
    c: &mut Conn,
    cfg: &AgentsConfig,
    connection: &Connection,
    a: &Ask<'_>,
) -> AppResult<AccessRequest> {
    let reason = bounded("reason", a.reason, REASON_MAX, true)?;
    if reason.is_empty() {
        return Err(invalid(
            "Give a reason: say in a sentence which pages you need and why.",
        ));
    }
    let search = bounded("search", a.search, SEARCH_MAX, false)?;
    let at = now();
    db::write_tx(c, |c| {
        db::lock_key(c, &format!("access_requests:{}", connection.id))?;
        q::expire(c, &connection.id, at)?;
        if let Some(declined) = q::last_declined(c, &connection.id)? {
            let wait = declined + cfg.decline_cooldown_s - at;
            if wait > 0 {
                return Err(invalid(format!(
                    "The person declined this connection's last request; ask again in {} minute(s), or carry on with the pages already shared.",
                    (wait + 59) / 60
                )));
            }
        }
        if q::pending_count(c, &connection.id)? >= i64::from(cfg.max_pending_requests) {
            return Err(invalid(format!(
                "This connection already has {} request(s) waiting for an answer; wait for the person to answer one (poll it with its id) before asking again.",
                cfg.max_pending_requests
            )));
        }
        let r = AccessRequest {
            id: AccessRequestId::new(),
            connection_id: connection.id.clone(),
            via: a.via,
            reason: reason.clone(),
            search: search.clone(),
            state: AccessRequestState::Pending,
            pages: String::new(),
            created_at: at,
            expires_at: at + cfg.request_ttl_s,
            answered_by: None,
            answered_at: None,
        };
        q::insert(c, &r)?;
        Ok(r)
    })
}

/// Request `id` as the connection that made it reads it; any other
/// connection's (or none) is "not found" (S98). A pending request past its
/// time reads `expired`.
pub fn poll(
    c: &mut Conn,
    connection: &ConnectionId,
    id: &AccessRequestId,
) -> AppResult<AccessRequest> {
    q::expire(c, connection, now())?;
    q::by_id(c, id)?
        .filter(|r| &r.connection_id == connection)
        .ok_or(AppError::NotFound)
}

/// A request as the person answering it sees it.
pub struct Answering {
    pub request: AccessRequest,
    pub connection: Connection,
    pub integration: Integration,
    pub workspace: Workspace,
    pub role: Role,
    /// The person who made the connection, by name.
    pub installer: String,
    /// The person who answered, by name.
    pub answered_by: Option<String>,
    /// The pages this person may share with it, in tree order, and whether
    /// each is shared with it now (as the **Access** picker offers them).
    pub pages: Vec<(TreeRow, bool)>,
}

impl Answering {
    /// Still waiting, on a live connection: the buttons show.
    pub fn open(&self) -> bool {
        self.request.state == AccessRequestState::Pending
            && self.connection.status == ConnectionStatus::Active
    }
}

/// Request `id` for `user` to answer (S99): a member of the connection's
/// workspace who made the connection or owns the workspace. Anyone else in
/// the workspace is refused with a page saying who may answer; someone
/// outside it finds nothing.
pub fn for_answer(c: &mut Conn, user: &UserId, id: &AccessRequestId) -> AppResult<Answering> {
    let r = q::by_id(c, id)?.ok_or(AppError::NotFound)?;
    q::expire(c, &r.connection_id, now())?;
    let request = q::by_id(c, id)?.ok_or(AppError::NotFound)?;
    let connection = connections::by_id(c, &request.connection_id)?.ok_or(AppError::NotFound)?;
    let (workspace, role) = role_in(c, &connection.workspace_id, user)?;
    let integration =
        integrations::by_id(c, &connection.integration_id)?.ok_or(AppError::NotFound)?;
    let installer = name_of(c, &connection.installed_by)?;
    if role != Role::Owner && &connection.installed_by != user {
        return Err(AppError::Forbidden(format!(
            "Only {installer}, who connected {}, or an owner of {} can answer its requests for pages.",
            integration.name, workspace.name
        )));
    }
    let answered_by = match &request.answered_by {
        Some(u) => Some(name_of(c, u)?),
        None => None,
    };
    let all = pages::in_workspace(c, &workspace.id)?;
    let installer_sees: std::collections::HashSet<PageId> =
        visible_tree(all.clone(), &connection.installed_by)
            .into_iter()
            .map(|r| r.page.id)
            .collect();
    let shared = connections::page_ids(c, &connection.id)?;
    let pages = visible_tree(all, user)
        .into_iter()
        .filter(|r| installer_sees.contains(&r.page.id))
        .map(|r| {
            let now_shared = shared.contains(&r.page.id);
            (r, now_shared)
        })
        .collect();
    Ok(Answering {
        request,
        connection,
        integration,
        workspace,
        role,
        installer,
        answered_by,
        pages,
    })
}

/// What an answer did, for the one-time note.
pub struct Answered {
    pub id: AccessRequestId,
    pub name: String,
    pub state: AccessRequestState,
    pub shared: usize,
}

impl Answered {
    /// The one-time note after the answer.
    pub fn sentence(&self) -> String {
        match (self.state, self.shared) {
            (AccessRequestState::Shared, 1) => format!(
                "Shared 1 page with {}: it sees it on its next call",
                self.name
            ),
            (AccessRequestState::Shared, n) => format!(
                "Shared {n} pages with {}: it sees them on its next call",
                self.name
            ),
            _ => format!("Declined {}'s request; nothing was shared", self.name),
        }
    }
}

/// `a`'s request as `user` may answer it now: pending, on a live
/// connection, with two-step verification where the workspace asks it.
fn answerable(c: &mut Conn, user: &UserId, id: &AccessRequestId) -> AppResult<Answering> {
    let a = for_answer(c, user, id)?;
    if a.connection.status != ConnectionStatus::Active {
        return Err(AppError::Conflict(format!(
            "{} was disconnected; this request can no longer be answered.",
            a.integration.name
        )));
    }
    if a.request.state != AccessRequestState::Pending {
        return Err(AppError::Conflict(format!(
            "This request was already answered or expired ({}); nothing was changed.",
            a.request.state
        )));
    }
    crate::domain::two_step::must_have(c, &a.workspace.id, user)?;
    Ok(a)
}

/// **Share**: the ticked pages not shared yet join the connection, each
/// through `change_page` (a page `user` may not share refuses the whole
/// answer, nothing changed), and the request reads `shared` with their ids.
pub fn share(
    c: &mut Conn,
    sbox: &SecretBox,
    user: &UserId,
    id: &AccessRequestId,
    ticked: &[String],
) -> AppResult<Answered> {
    db::write_tx(c, |c| {
        let a = answerable(c, user, id)?;
        let mut added: Vec<PageId> = Vec::new();
        for raw in ticked {
            let page = PageId::parse(raw)
                .and_then(|p| a.pages.iter().find(|(r, _)| r.page.id == p))
                .ok_or_else(|| {
                    AppError::invalid(
                        "One of the selected pages does not exist or cannot be shared with this connection; nothing was changed.",
                    )
                })?;
            if !page.1 && !added.contains(&page.0.page.id) {
                added.push(page.0.page.id.clone());
            }
        }
        if added.is_empty() {
            return Err(AppError::invalid(
                "Tick at least one page that is not shared yet, or press Decline.",
            ));
        }
        let by = ByMember {
            workspace: &a.workspace,
            user,
            role: a.role,
        };
        for page in &added {
            change_page(
                c,
                sbox,
                &a.connection.id,
                page,
                Some(&by),
                PageChange::Share,
            )?;
        }
        let ids: Vec<String> = added.iter().map(|p| p.to_string()).collect();
        finish(c, &a, user, AccessRequestState::Shared, &ids.join(" "))?;
        Ok(Answered {
            id: a.request.id.clone(),
            name: a.integration.name.clone(),
            state: AccessRequestState::Shared,
            shared: added.len(),
        })
    })
}

/// **Decline**: nothing is shared, and the connection may not ask again
/// for `agents.decline_cooldown_s`.
pub fn decline(c: &mut Conn, user: &UserId, id: &AccessRequestId) -> AppResult<Answered> {
    db::write_tx(c, |c| {
        let a = answerable(c, user, id)?;
        finish(c, &a, user, AccessRequestState::Declined, "")?;
        Ok(Answered {
            id: a.request.id.clone(),
            name: a.integration.name.clone(),
            state: AccessRequestState::Declined,
            shared: 0,
        })
    })
}

/// The button pressed on `/requests/{id}`: `share` (with the ticked
/// pages) or `decline`.
pub fn answer(
    c: &mut Conn,
    sbox: &SecretBox,
    user: &UserId,
    id: &AccessRequestId,
    button: &str,
    ticked: &[String],
) -> AppResult<Answered> {
    match button {
        "share" => share(c, sbox, user, id, ticked),
        "decline" => decline(c, user, id),
        _ => Err(AppError::invalid("Press Share or Decline.")),
    }
}

/// Records the answer once (a second answer finds it no longer pending)
/// and audits it in the connection's workspace.
fn finish(
    c: &mut Conn,
    a: &Answering,
    user: &UserId,
    state: AccessRequestState,
    pages: &str,
) -> AppResult<()> {
    if !q::answer(c, &a.request.id, state, pages, user, now())? {
        return Err(AppError::Conflict(
            "This request was answered a moment ago; nothing was changed.".into(),
        ));
    }
    let (action, detail) = match state {
        AccessRequestState::Shared => (
            AuditAction::AccessRequestShared,
            format!(
                "{} ({} page(s))",
                a.integration.name,
                pages.split_whitespace().count()
            ),
        ),
        _ => (
            AuditAction::AccessRequestDeclined,
            a.integration.name.clone(),
        ),
    };
    audit::within_budget(c, user)?;
    audit::record(
        c,
        Some(&a.workspace.id),
        Actor::User(user),
        action,
        &a.connection.id,
        detail,
    )
}

/// A pending request as Settings → Connections lists it.
pub struct Waiting {
    pub id: AccessRequestId,
    /// The client's name.
    pub name: String,
    pub reason: String,
    pub agent: bool,
    pub created_at: i64,
}

/// The pending requests `user` may answer in `ws`: on **My connections**
/// (`mine`) those on the connections they made, on the owners'
/// **Connections** every one in the workspace.
pub fn waiting(
    c: &mut Conn,
    ws: &crate::db::models::WorkspaceId,
    user: &UserId,
    role: Role,
    mine: bool,
) -> AppResult<Vec<Waiting>> {
    let installer = (mine || role != Role::Owner).then_some(user);
    Ok(q::waiting_in(c, ws, installer, now())?
        .into_iter()
        .map(|(r, name)| Waiting {
            id: r.id,
            name,
            reason: r.reason,
            agent: r.via == RequestVia::Mcp,
            created_at: r.created_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_bounded_and_printable_s100() {
        assert!(bounded("reason", &"x".repeat(REASON_MAX), REASON_MAX, true).is_ok());
        assert!(bounded("reason", &"x".repeat(REASON_MAX + 1), REASON_MAX, true).is_err());
        assert!(bounded("reason", "two\nlines", REASON_MAX, true).is_ok());
        assert!(bounded("search", "two\nlines", SEARCH_MAX, false).is_err());
        assert!(bounded("reason", "bell\u{7}", REASON_MAX, true).is_err());
    }
}
