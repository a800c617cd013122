//! The audit log: what happened in a workspace, who did it, to what. Owners
//! read it at Settings & members → Audit log. Every state change a person or
//! client makes to connections, policies, secrets or tokens records one
//! event, in the same transaction as the change.

use crate::db::models::{now, AuditEvent, NewAuditEvent, UserId, WorkspaceId};
use crate::db::queries::audit;
use crate::db::Conn;
use crate::error::{AppError, AppResult};

macro_rules! actions {
    ($($variant:ident => $s:literal),* $(,)?) => {
        /// What happened; stored as its dotted name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditAction { $($variant),* }

        impl AuditAction {
            pub fn as_str(self) -> &'static str {
                match self { $(AuditAction::$variant => $s),* }
            }
        }
    };
}

actions! {
    ConnectionCreated => "connection.created",
    ConnectionGranted => "connection.granted",
    ConnectionDisconnected => "connection.disconnected",
    ConnectionRevoked => "connection.revoked",
    PageAdded => "connection.page_added",
    PageRemoved => "connection.page_removed",
    IntegrationApproved => "integration.approved",
    IntegrationUnapproved => "integration.unapproved",
    PolicyChanged => "policy.changed",
    RedirectUrisChanged => "redirect_uris.changed",
    SecretRotated => "secret.rotated",
    TokenRetrieved => "token.retrieved",
    MemberAdded => "member.added",
    MemberRoleChanged => "member.role_changed",
    MemberRemoved => "member.removed",
    IntegrationDeleted => "integration.deleted",
}

/// Who did it.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    User(&'a UserId),
    /// A client acting with its own credentials (revocation).
    Client(&'a str),
    /// pagegrant itself, or an operator at the command line.
    System,
}

impl Actor<'_> {
    fn stored(&self) -> Option<String> {
        match self {
            Actor::User(id) => Some(id.to_string()),
            Actor::Client(client_id) => Some(format!("client:{client_id}")),
            Actor::System => None,
        }
    }
}

/// Records one event now.
pub fn record(
    c: &mut Conn,
    workspace: Option<&WorkspaceId>,
    actor: Actor<'_>,
    action: AuditAction,
    target: &dyn std::fmt::Display,
    detail: String,
) -> AppResult<()> {
    audit::record(
        c,
        &NewAuditEvent {
            workspace_id: workspace.cloned(),
            actor: actor.stored(),
            action: action.as_str().into(),
            target: target.to_string(),
            detail,
            at: now(),
        },
    )?;
    Ok(())
}

/// A workspace's events, newest first, all of them (the CLI's export).
pub fn for_workspace(c: &mut Conn, ws: &WorkspaceId) -> AppResult<Vec<AuditEvent>> {
    Ok(audit::for_workspace(c, ws)?)
}

/// Events one page of the audit log shows.
pub const PAGE_SIZE: i64 = 50;

/// Audit-producing changes one person may make per minute from the page
/// menu: far above what a person clicks, far below the ~220/s a script made
/// (issue 15 #20).
pub const PER_USER_PER_MINUTE: i64 = 60;

/// One page of a workspace's log, newest first, starting below event
/// `before`; and the id to continue from when older events remain.
pub fn page_for_workspace(
    c: &mut Conn,
    ws: &WorkspaceId,
    before: Option<i32>,
) -> AppResult<(Vec<AuditEvent>, Option<i32>)> {
    let mut events = audit::page_of_workspace(c, ws, before, PAGE_SIZE + 1)?;
    let older = if events.len() as i64 > PAGE_SIZE {
        events.truncate(PAGE_SIZE as usize);
        events.last().map(|e| e.id)
    } else {
        None
    };
    Ok((events, older))
}

/// Refuses (429) a change by `user` that would record one more event when
/// they recorded `PER_USER_PER_MINUTE` in the last minute. Call it inside
/// the change's write transaction, so concurrent changes queue behind it.
pub fn within_budget(c: &mut Conn, user: &UserId) -> AppResult<()> {
    let recent = audit::count_by_actor_since(c, user.as_str(), now() - 60)?;
    if recent >= PER_USER_PER_MINUTE {
        return Err(AppError::Throttled(60));
    }
    Ok(())
}
