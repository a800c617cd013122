//! Asking for approval (issue 27 item 3): under **Only from approved
//! list** a member who may not install an integration asks the owners,
//! with an optional note; the owners answer in the Enterprise block
//! (`domain::enterprise`), and the member reads the answer on the
//! integration's consent page and on the request's own page.
//!
//! Approving a request puts the integration on the approved list, which
//! only an integration already installed in the workspace can join (the
//! seed's rule): it installs nothing by itself, as Slack's and Google
//! Workspace's app approval let the person who asked install afterwards.

use crate::db::models::{
    now, ApprovalRequest, ApprovalStatus, Integration, IntegrationId, IntegrationKind, Role,
    UserId, Workspace,
};
use crate::db::queries::{approval_requests as q, blocked_clients, connections, integrations};
use crate::db::{self, Conn};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::install_policy;
use crate::error::{AppError, AppResult};

/// The longest note a member may send with a request, in characters.
pub const NOTE_MAX: usize = 500;

/// A member's latest request for an integration, as they read it.
pub struct Seen {
    pub status: ApprovalStatus,
    pub note: String,
    pub requested_at: i64,
    /// The owner who answered, by name.
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
}

/// Whether `role` in `ws` could ask for `i` to be approved: a member of
/// an Enterprise workspace set to **Only from approved list**, for a
/// public integration the policy stops (not one an owner blocked: that
/// refusal is not about the list).
pub fn askable(c: &mut Conn, ws: &Workspace, role: Role, i: &Integration) -> AppResult<bool> {
    if role == Role::Owner
        || i.kind != IntegrationKind::Public
        || !install_policy::restricted(ws)
        || (i.dynamic && blocked_clients::is_blocked(c, &ws.id, &i.id)?)
    {
        return Ok(false);
    }
    Ok(install_policy::blocked(c, ws, role, i)?.is_some())
}

/// `user`'s latest request for `integration` in `ws`, if any.
pub fn latest(
    c: &mut Conn,
    ws: &Workspace,
    integration: &IntegrationId,
    user: &UserId,
) -> AppResult<Option<Seen>> {
    let Some(r) = q::get(c, &ws.id, integration, user)? else {
        return Ok(None);
    };
    let answered_by = match &r.answered_by {
        Some(u) => Some(crate::domain::accounts::name_of(c, u)?),
        None => None,
    };
    Ok(Some(Seen {
        status: r.status,
        note: r.note,
        requested_at: r.requested_at,
        answered_by,
        answered_at: r.answered_at,
    }))
}

/// `user`'s own request for `integration` in `ws`, for its page: the
/// integration's name, the request, and whether the policy still stops
/// them. Nobody reads another's request; none is `NotFound`.
pub fn mine(
    c: &mut Conn,
    ws: &Workspace,
    role: Role,
    user: &UserId,
    integration: &IntegrationId,
) -> AppResult<(String, Seen, bool)> {
    let seen = latest(c, ws, integration, user)?.ok_or(AppError::NotFound)?;
    let i = integrations::by_id(c, integration)?.ok_or(AppError::NotFound)?;
    let still_blocked = install_policy::blocked(c, ws, role, &i)?.is_some();
    Ok((i.name, seen, still_blocked))
}

/// The note as kept: trimmed, at most `NOTE_MAX` characters, without
/// control characters other than line breaks.
fn clean_note(note: &str) -> AppResult<String> {
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(AppError::invalid(format!(
            "A note to the owners has at most {NOTE_MAX} characters."
        )));
    }
    Ok(note
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect())
}

/// A member asks the owners of `ws` to approve `integration`. A request
/// already pending stays as it is (one per member and integration); an
/// answered one is replaced by the new request. Audited.
pub fn request(
    c: &mut Conn,
    ws: &Workspace,
    role: Role,
    user: &UserId,
    integration: &IntegrationId,
    note: &str,
) -> AppResult<Integration> {
    let note = clean_note(note)?;
    let i = integrations::by_id(c, integration)?
        .filter(|i| i.kind == IntegrationKind::Public)
        .ok_or(AppError::NotFound)?;
    if role == Role::Owner {
        return Err(AppError::invalid(format!(
            "Owners may install any connection: open {}'s connection link and choose pages.",
            i.name
        )));
    }
    if !askable(c, ws, role, &i)? {
        return Err(AppError::invalid(format!(
            "There is nothing to ask: {} does not need the owners' approval in {}.",
            i.name, ws.name
        )));
    }
    if q::get(c, &ws.id, &i.id, user)?.is_some_and(|r| r.status == ApprovalStatus::Pending) {
        return Ok(i);
    }
    let row = ApprovalRequest {
        workspace_id: ws.id.clone(),
        integration_id: i.id.clone(),
        requested_by: user.clone(),
        note,
        status: ApprovalStatus::Pending,
        requested_at: now(),
        answered_by: None,
        answered_at: None,
    };
    db::write_tx(c, |c| {
        q::put_pending(c, &row)?;
        audit::record(
            c,
            Some(&ws.id),
            Actor::User(user),
            AuditAction::ApprovalRequested,
            &row.integration_id,
            row.note.clone(),
        )
    })?;
    Ok(i)
}

/// A pending request as the owners see it.
pub struct Pending {
    pub integration_id: IntegrationId,
    pub integration_name: String,
    pub unverified: bool,
    /// Installed here (an active connection): only then can it be approved.
    pub installed: bool,
    /// Where an owner can install it first, when it is not installed.
    pub install_href: Option<String>,
    pub requested_by: UserId,
    pub requester_name: String,
    pub note: String,
    pub requested_at: i64,
}

/// The workspace's pending requests, oldest first.
pub fn pending(c: &mut Conn, ws: &Workspace) -> AppResult<Vec<Pending>> {
    let installed: Vec<IntegrationId> = connections::active_in_workspace(c, &ws.id, None)?
        .into_iter()
        .map(|(_, i)| i.id)
        .collect();
    let mut out = Vec::new();
    for r in q::pending_in(c, &ws.id)? {
        let Some(i) = integrations::by_id(c, &r.integration_id)? else {
            continue;
        };
        let is_installed = installed.contains(&i.id);
        let install_href = match is_installed {
            true => None,
            false => crate::domain::integrations::start_link(c, &i, ws)?,
        };
        out.push(Pending {
            integration_id: i.id.clone(),
            unverified: crate::domain::integrations::unverified(&i),
            integration_name: i.name,
            installed: is_installed,
            install_href,
            requester_name: crate::domain::accounts::name_of(c, &r.requested_by)?,
            requested_by: r.requested_by,
            note: r.note,
            requested_at: r.requested_at,
        });
    }
    Ok(out)
}

/// Answers one member's pending request, inside the caller's transaction.
/// Approving puts the integration on the approved list, which only an
/// integration installed here may join, and answers every member's
/// pending request for it; declining answers this member's only. Audited.
pub fn answer(
    c: &mut Conn,
    ws: &crate::db::models::WorkspaceId,
    owner: &UserId,
    integration: &IntegrationId,
    requester: &UserId,
    approve: bool,
) -> AppResult<()> {
    let pending = q::get(c, ws, integration, requester)?
        .filter(|r| r.status == ApprovalStatus::Pending)
        .ok_or_else(|| {
            AppError::invalid("This request was already answered or withdrawn; reload Settings.")
        })?;
    let asker = crate::domain::accounts::name_of(c, &pending.requested_by)?;
    let t = now();
    if !approve {
        q::answer(
            c,
            ws,
            integration,
            Some(requester),
            ApprovalStatus::Declined,
            owner,
            t,
        )?;
        return audit::record(
            c,
            Some(ws),
            Actor::User(owner),
            AuditAction::ApprovalDeclined,
            integration,
            asker,
        );
    }
    let name = integrations::by_id(c, integration)?
        .map(|i| i.name)
        .unwrap_or_default();
    if !connections::active_in_workspace(c, ws, None)?
        .iter()
        .any(|(_, i)| &i.id == integration)
    {
        return Err(AppError::invalid(format!(
            "Only connections already installed in this workspace can be approved, and nobody has installed {name} here yet. Install it yourself first (owners may always install: open it from the request's Install link), then approve the request."
        )));
    }
    connections::approve(c, ws, integration, owner, t)?;
    q::answer(c, ws, integration, None, ApprovalStatus::Approved, owner, t)?;
    audit::record(
        c,
        Some(ws),
        Actor::User(owner),
        AuditAction::IntegrationApproved,
        integration,
        format!("requested by {asker}"),
    )
}

/// When an owner approves an integration from **+ Add approved
/// connection**, the members' pending requests for it are answered too.
pub fn approved_elsewhere(
    c: &mut Conn,
    ws: &crate::db::models::WorkspaceId,
    owner: &UserId,
    integration: &IntegrationId,
) -> AppResult<()> {
    q::answer(
        c,
        ws,
        integration,
        None,
        ApprovalStatus::Approved,
        owner,
        now(),
    )?;
    Ok(())
}
