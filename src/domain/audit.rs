//! The audit log: what happened in a workspace, who did it, to what. Owners
//! read it at Settings & members → Audit log. Every state change a person or
//! client makes to connections, policies, secrets or tokens records one
//! event, in the same transaction as the change.

use crate::db::models::{now, AuditEvent, NewAuditEvent, Role, UserId, Visibility, WorkspaceId};
use crate::db::queries::audit;
pub use crate::db::queries::audit::Filter;
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
    AccessRequestShared => "access_request.shared",
    AccessRequestDeclined => "access_request.declined",
    IntegrationApproved => "integration.approved",
    IntegrationUnapproved => "integration.unapproved",
    IntegrationReviewed => "integration.reviewed",
    ApprovalRequested => "approval.requested",
    ApprovalDeclined => "approval.declined",
    PolicyChanged => "policy.changed",
    RedirectUrisChanged => "redirect_uris.changed",
    SecretRotated => "secret.rotated",
    TokenRetrieved => "token.retrieved",
    TokenReplaced => "token.replaced",
    MemberAdded => "member.added",
    MemberRoleChanged => "member.role_changed",
    MemberRemoved => "member.removed",
    MemberInvited => "member.invited",
    InvitationAccepted => "member.invitation_accepted",
    InvitationRevoked => "member.invitation_revoked",
    IntegrationDeleted => "integration.deleted",
    ClientBlocked => "client.blocked",
    ClientUnblocked => "client.unblocked",
    AgentPageCreated => "page.created_by_agent",
    AgentPageUpdated => "page.updated_by_agent",
    AgentBlocksAppended => "blocks.appended_by_agent",
    AgentBlockUpdated => "block.updated_by_agent",
    AgentWritesSummarised => "agent.writes_summarised",
    PasskeyAdded => "passkey.added",
    PasskeyRemoved => "passkey.removed",
    PasskeySignIn => "passkey.signed_in",
    PasskeyRefused => "passkey.refused",
    SessionEnded => "session.ended",
    SessionsEndedOthers => "sessions.ended_others",
    PasswordChanged => "password.changed",
    PasswordSignInOff => "password.sign_in_off",
    PasswordSignInOn => "password.sign_in_on",
    TwoStepEnabled => "two_step.enabled",
    TwoStepDisabled => "two_step.disabled",
    TwoStepRecoveryUsed => "two_step.recovery_used",
    TwoStepCodesRenewed => "two_step.codes_renewed",
    TwoStepRequired => "policy.two_step_required",
}

/// The actions a bot's writes record (`record_bot_write`), counted
/// together against `BOT_WRITES_PER_MINUTE`.
pub const BOT_WRITE_ACTIONS: &[AuditAction] = &[
    AuditAction::AgentPageCreated,
    AuditAction::AgentPageUpdated,
    AuditAction::AgentBlocksAppended,
    AuditAction::AgentBlockUpdated,
];

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

/// The most events one CSV export holds.
pub const EXPORT_LIMIT: i64 = 10_000;

/// The events an export holds: the filtered log, newest first.
pub fn export(c: &mut Conn, ws: &WorkspaceId, filter: &Filter) -> AppResult<Vec<AuditEvent>> {
    Ok(audit::page_of_workspace(c, ws, None, EXPORT_LIMIT, filter)?)
}

/// Who acted, as a person reads it: a user's name, "An integration" for a
/// client, "pagegrant" for the system.
pub fn actor_name(c: &mut Conn, e: &AuditEvent) -> AppResult<String> {
    Ok(match e.actor.as_deref() {
        Some(a) => match UserId::parse(a) {
            Some(id) => crate::domain::accounts::name_of(c, &id)?,
            None => a
                .strip_prefix("client:")
                .map_or(a.to_string(), |_| "An integration".into()),
        },
        None => "pagegrant".into(),
    })
}

/// A CSV cell a spreadsheet will not run: names, targets and details come
/// from people and from clients that registered themselves, so a cell
/// starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`
/// (OWASP's CSV-injection rule; S72).
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// `events` as CSV, one line per event with the sentence a person reads;
/// the one export both **Export CSV** and `pagegrant audit --csv` write.
pub fn to_csv(
    c: &mut Conn,
    events: Vec<AuditEvent>,
    when: impl Fn(i64) -> String,
) -> AppResult<Vec<u8>> {
    let csv_err = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["time", "who", "event", "action", "target", "detail"])
        .map_err(csv_err)?;
    for e in events {
        let name = actor_name(c, &e)?;
        let sentence = sentence(c, &e, &name)?;
        let time = when(e.at);
        let cells = [
            time.as_str(),
            &name,
            &sentence,
            &e.action,
            &e.target,
            &e.detail,
        ];
        out.write_record(cells.map(|c| csv_cell(c).into_owned()))
            .map_err(csv_err)?;
    }
    out.into_inner()
        .map_err(|e| AppError::internal(format!("csv: {e}")))
}

/// The kinds of event a reader filters by, each with its actions.
pub const KINDS: &[(&str, &str, &[&str])] = &[
    (
        "connections",
        "Connections",
        &[
            "connection.created",
            "connection.granted",
            "connection.disconnected",
            "connection.revoked",
        ],
    ),
    (
        "pages",
        "Shared pages",
        &[
            "connection.page_added",
            "connection.page_removed",
            "access_request.shared",
            "access_request.declined",
        ],
    ),
    (
        "integrations",
        "Integrations",
        &[
            "integration.approved",
            "integration.unapproved",
            "integration.reviewed",
            "approval.requested",
            "approval.declined",
            "integration.deleted",
            "client.blocked",
            "client.unblocked",
            "redirect_uris.changed",
            "policy.changed",
            "policy.two_step_required",
        ],
    ),
    (
        "secrets",
        "Secrets and tokens",
        &["secret.rotated", "token.retrieved", "token.replaced"],
    ),
    (
        "agents",
        "Agent edits",
        &[
            "page.created_by_agent",
            "page.updated_by_agent",
            "blocks.appended_by_agent",
            "block.updated_by_agent",
            "agent.writes_summarised",
        ],
    ),
    (
        "members",
        "Members",
        &[
            "member.added",
            "member.role_changed",
            "member.removed",
            "member.invited",
            "member.invitation_accepted",
            "member.invitation_revoked",
        ],
    ),
];

/// The actions of a kind by its key.
pub fn actions_of(kind: &str) -> Option<Vec<String>> {
    KINDS
        .iter()
        .find(|(k, ..)| *k == kind)
        .map(|(_, _, a)| a.iter().map(|s| s.to_string()).collect())
}

/// An event in words, with names: what a person reads in the log and the
/// export. `who` is the actor's name.
pub fn sentence(c: &mut Conn, e: &AuditEvent, who: &str) -> AppResult<String> {
    use crate::db::models::{ConnectionId, PageId};
    use crate::db::queries::{connections, integrations, pages};
    // The integration a connection event is about, by its connection.
    let connection_name = |c: &mut Conn| -> AppResult<Option<String>> {
        let Some(id) = ConnectionId::parse(&e.target) else {
            return Ok(None);
        };
        Ok(match connections::by_id(c, &id)? {
            Some(conn) => integrations::by_id(c, &conn.integration_id)?.map(|i| i.name),
            None => None,
        })
    };
    let page_title = |c: &mut Conn| -> AppResult<String> {
        // "page <uuid>", then (since issue 25) " via <surface>…".
        let Some(id) = e
            .detail
            .strip_prefix("page ")
            .and_then(|rest| rest.get(..36))
            .and_then(PageId::parse)
        else {
            return Ok(e.detail.clone());
        };
        let chain = pages::with_ancestors(c, &id)?;
        // Every owner reads the log: a private page (or one under it) is
        // not named there, as **View users with access** does not name it
        // (S78).
        Ok(match chain.first() {
            None => "a deleted page".into(),
            Some(_) if chain.iter().any(|p| p.visibility == Visibility::Private) => {
                "a private page".into()
            }
            Some(p) if p.title.trim().is_empty() => "Untitled".into(),
            Some(p) => p.title.clone(),
        })
    };
    let d = e.detail.as_str();
    Ok(match e.action.as_str() {
        "connection.granted" => {
            // Recorded as "Name (N page(s))".
            let (name, n) = d
                .rsplit_once(" (")
                .and_then(|(name, rest)| {
                    rest.strip_suffix(" page(s))")
                        .and_then(|n| n.parse::<u32>().ok())
                        .map(|n| (name, n))
                })
                .unwrap_or((d, 0));
            // The same connection granted before: a reconnect (consent
            // reuses the connection a person had with the integration).
            let again = crate::db::queries::audit::recorded_before(c, &e.target, "connection.granted", e.id)?;
            let verb = if again { "reconnected" } else { "connected" };
            match n {
                0 => format!("{who} {verb} {name} without sharing any page"),
                1 => format!("{who} {verb} {name} and shared 1 page with it"),
                n => format!("{who} {verb} {name} and shared {n} pages with it"),
            }
        }
        "connection.created" => {
            let name = connection_name(c)?.unwrap_or_else(|| d.to_string());
            format!("{who} created the internal integration {name}")
        }
        "connection.disconnected" => format!("{who} disconnected {d}"),
        "connection.revoked" => format!("{d} (it disconnected itself)"),
        "connection.page_added" => {
            let name = connection_name(c)?.unwrap_or_else(|| "a connection".into());
            format!("{who} shared {} with {name}", page_title(c)?)
        }
        "connection.page_removed" => {
            let name = connection_name(c)?.unwrap_or_else(|| "a connection".into());
            format!("{who} stopped sharing {} with {name}", page_title(c)?)
        }
        // Issue 29 item 1: recorded as "Name (N page(s))" and "Name".
        "access_request.shared" => {
            let parsed = d.rsplit_once(" (").and_then(|(name, rest)| {
                let n = rest.strip_suffix(" page(s))")?.parse::<u32>().ok()?;
                Some((name, n))
            });
            match parsed {
                Some((name, 1)) => {
                    format!("{who} shared 1 more page with {name}, as it asked")
                }
                Some((name, n)) => {
                    format!("{who} shared {n} more pages with {name}, as it asked")
                }
                None => format!("{who} answered {d}'s request for more pages"),
            }
        }
        "access_request.declined" => format!("{who} declined {d}'s request for more pages"),
        "integration.approved"
        | "integration.unapproved"
        | "approval.requested"
        | "approval.declined" => {
            let name = crate::db::models::IntegrationId::parse(&e.target)
                .map(|id| integrations::by_id(c, &id))
                .transpose()?
                .flatten()
                .map(|i| i.name)
                .unwrap_or_else(|| "an integration".into());
            match e.action.as_str() {
                // Issue 27 item 3: "requested by ‹name›" when it answers a request.
                "integration.approved" => match d.strip_prefix("requested by ") {
                    Some(asker) => format!("{who} approved {name}, as {asker} asked"),
                    None => format!("{who} approved {name}"),
                },
                "approval.requested" if d.is_empty() => {
                    format!("{who} asked the owners to approve {name}")
                }
                "approval.requested" => {
                    format!("{who} asked the owners to approve {name}: \u{201c}{d}\u{201d}")
                }
                "approval.declined" => format!("{who} declined {d}'s request to approve {name}"),
                _ => format!("{who} removed {name} from the approved list"),
            }
        }
        "integration.reviewed" => format!("The operator marked {d} as reviewed"),
        "integration.deleted" => format!("{who} deleted the integration {d}"),
        "client.blocked" => {
            format!("{who} blocked {d}, a client that registered itself, and ended its connections")
        }
        "client.unblocked" => format!("{who} unblocked {d}, a client that registered itself"),
        // Recorded as "install policy approved_only, auto-approve first-party true".
        "policy.changed" if !d.starts_with("install policy ") => {
            format!("{who} changed who may install connections ({d})")
        }
        "policy.changed" => {
            let restricted = d.contains("approved_only");
            let auto = d.ends_with("true");
            match (restricted, auto) {
                (true, true) => {
                    format!("{who} allowed members only approved connections, and pagegrant's own")
                }
                (true, false) => format!("{who} allowed members only approved connections"),
                (false, _) => format!("{who} let members install any connection"),
            }
        }
        "policy.two_step_required" if d == "on" => {
            format!("{who} required two-step verification of every member")
        }
        "policy.two_step_required" => {
            format!("{who} stopped requiring two-step verification")
        }
        "redirect_uris.changed" => {
            format!("{who} changed the redirect URIs of an integration to {d}")
        }
        "secret.rotated" => format!("{who} rotated the client secret of {d}"),
        // "Name (copied)" or "Name (revealed)" since issue 27; before, the
        // server did not tell the two apart.
        "token.retrieved" => match d.rsplit_once(" (") {
            Some((name, "copied)")) => format!("{who} copied the token of {name} to the clipboard"),
            Some((name, "revealed)")) => format!("{who} revealed the token of {name} on screen"),
            _ => format!("{who} copied or revealed the token of {d}"),
        },
        "token.replaced" => format!(
            "The token of {d} was replaced: someone other than the person who added it had copied it, and it now reaches their private page"
        ),
        "member.added" => match d.rsplit_once(" as ") {
            Some((email, role)) if Role::parse(role) == Some(Role::Owner) => format!("{who} added {email} as an owner"),
            Some((email, role)) => format!("{who} added {email} as a {role}"),
            None => format!("{who} added {d}"),
        },
        "page.created_by_agent"
        | "page.updated_by_agent"
        | "blocks.appended_by_agent"
        | "block.updated_by_agent" => {
            let name = connection_name(c)?.unwrap_or_else(|| "A connection".into());
            let verb = match e.action.as_str() {
                "page.created_by_agent" => "created",
                "blocks.appended_by_agent" => "added content to",
                "block.updated_by_agent" => "changed a block of",
                _ => "changed",
            };
            // Before issue 25 only MCP wrote, and its rows name no surface.
            let through = match d.contains(" via /v1") {
                true => "the API",
                false => "MCP",
            };
            format!("{name} {verb} {} through {through}", page_title(c)?)
        }
        "agent.writes_summarised" => {
            let name = connection_name(c)?.unwrap_or_else(|| "A connection".into());
            format!("{name} made {d}")
        }
        "member.role_changed" => format!("{who} changed the role of {d}"),
        // Recorded as "email as role", then "; new link" when it replaced one.
        "member.invited" => {
            let (what, renewed) = match d.strip_suffix("; new link") {
                Some(w) => (w, true),
                None => (d, false),
            };
            let said = match what.rsplit_once(" as ") {
                Some((email, role)) if Role::parse(role) == Some(Role::Owner) => {
                    format!("{who} invited {email} as an owner")
                }
                Some((email, role)) => format!("{who} invited {email} as a {role}"),
                None => format!("{who} invited {what}"),
            };
            match renewed {
                true => format!("{said} (a new link; the earlier one no longer works)"),
                false => said,
            }
        }
        "member.invitation_accepted" => match d.rsplit_once(" as ") {
            Some((email, role)) if Role::parse(role) == Some(Role::Owner) => {
                format!("{who} accepted the invitation for {email} and joined as an owner")
            }
            Some((email, role)) => {
                format!("{who} accepted the invitation for {email} and joined as a {role}")
            }
            None => format!("{who} accepted an invitation ({d})"),
        },
        "member.invitation_revoked" => format!("{who} revoked the invitation for {d}"),
        "member.removed" => format!("{who} removed {d}"),
        "passkey.added" => format!("{who} added the passkey {d}"),
        "passkey.removed" => format!("{who} removed the passkey {d}"),
        "passkey.signed_in" => format!("{who} signed in with the passkey {d}"),
        "passkey.refused" => format!("A sign-in with the passkey {d} of {who} was refused"),
        other => format!("{who}: {other} {d}"),
    })
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
    filter: &Filter,
) -> AppResult<(Vec<AuditEvent>, Option<i32>)> {
    let mut events = audit::page_of_workspace(c, ws, before, PAGE_SIZE + 1, filter)?;
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

/// A bot's write events one connection records one by one per minute
/// (sliding): far above what an agent editing a page by hand does, and the
/// per-connection rate limit (3/s) stays the bound on the writes
/// themselves. Past it, the minute's further writes are counted in one
/// summarising event, so a busy agent cannot flood the log an owner reads
/// (docs/notes-25-reach.md).
pub const BOT_WRITES_PER_MINUTE: i64 = 60;

/// One write a connection's bot made, from any surface.
pub struct BotWrite<'a> {
    pub workspace: &'a WorkspaceId,
    pub client_id: &'a str,
    pub connection: &'a crate::db::models::ConnectionId,
    pub action: AuditAction,
    pub page: &'a crate::db::models::PageId,
    /// `/v1` or `/mcp`.
    pub via: &'a str,
    /// What changed, when more than the page's name says ("3 block(s)").
    pub what: Option<String>,
}

/// Records a bot's write, the same for every surface: actor
/// `client:<client_id>`, target the connection, detail
/// `page <id> via <surface>[: <what>]`. Past `BOT_WRITES_PER_MINUTE` in the
/// last minute, the write is counted in the minute's summarising event
/// instead. Call it inside the write's transaction.
pub fn record_bot_write(c: &mut Conn, w: &BotWrite<'_>) -> AppResult<()> {
    let since = now() - 60;
    let actions: Vec<&str> = BOT_WRITE_ACTIONS.iter().map(|a| a.as_str()).collect();
    let target = w.connection.as_str();
    if audit::count_for_target_since(c, target, &actions, since)? < BOT_WRITES_PER_MINUTE {
        let detail = match &w.what {
            Some(what) => format!("page {} via {}: {what}", w.page, w.via),
            None => format!("page {} via {}", w.page, w.via),
        };
        return record(
            c,
            Some(w.workspace),
            Actor::Client(w.client_id),
            w.action,
            &target,
            detail,
        );
    }
    let summary = AuditAction::AgentWritesSummarised.as_str();
    match audit::latest_for_target_since(c, target, summary, since)? {
        Some(e) => {
            let n = e
                .detail
                .split(' ')
                .next()
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(0);
            audit::set_detail(c, e.id, &summarised(n + 1))?;
            Ok(())
        }
        None => record(
            c,
            Some(w.workspace),
            Actor::Client(w.client_id),
            AuditAction::AgentWritesSummarised,
            &target,
            summarised(1),
        ),
    }
}

fn summarised(n: i64) -> String {
    format!("{n} more write(s) within a minute of its first {BOT_WRITES_PER_MINUTE}, not itemised")
}
