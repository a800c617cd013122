//! Consent without HTTP: what the consent page offers (`prepare`, which
//! also records the pending request the page answers) and what an answer
//! does (`decide`: the connection and its pages, recorded once). Issuing
//! the code is the protocol's part (`oauth::authorize::answer`).

use crate::config::Config;
use crate::crypto;
use crate::db::models::{
    now, AuthorizationRequest, BotId, Connection, ConnectionId, ConnectionPage, ConnectionStatus,
    Integration, PageId, Role, Session, User, UserId, Workspace, WorkspaceId,
};
use crate::db::queries::{connections, integrations, oauth as q, pages, workspaces};
use crate::db::{self, Conn};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::tree_cache::{self, TreeCache};
use crate::domain::workspaces::{chain_trashed, chain_visible_to, role_in, TreeRow};
use crate::domain::{approval_requests, install_policy, two_step};
use crate::error::{AppError, AppResult, Capability};

/// One word of an authorization request's `prompt` (OIDC Core §3.1.2.1;
/// `select_account` and `create` are not offered: metadata lists these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptValue {
    None,
    Login,
    Consent,
}

impl PromptValue {
    pub const ALL: [PromptValue; 3] = [PromptValue::None, PromptValue::Login, PromptValue::Consent];

    pub fn parse(word: &str) -> Option<PromptValue> {
        PromptValue::ALL.into_iter().find(|p| p.as_str() == word)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PromptValue::None => "none",
            PromptValue::Login => "login",
            PromptValue::Consent => "consent",
        }
    }

    /// The words of a `prompt` value, or the first word that is not one.
    pub fn words(value: &str) -> Result<Vec<PromptValue>, String> {
        value
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| PromptValue::parse(w).ok_or_else(|| w.to_string()))
            .collect()
    }
}

/// `prompt` (OIDC's values, which MCP clients send): `none` must not meet
/// a person, `login` wants the password again, `consent` is what pagegrant
/// always does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    /// `max_age` (OIDC Core §3.1.2.1, which MCP clients may send): the
    /// session must have begun at most this many seconds ago, else the
    /// person logs in again, as with `login`.
    pub max_age: Option<i64>,
}

impl Prompt {
    /// Whether a session that began at `session_start` is too old for
    /// this request without a fresh login.
    pub fn wants_login(&self, session_start: i64, at: i64) -> bool {
        self.login || self.max_age.is_some_and(|m| at - session_start > m)
    }

    /// Where the request goes for the person at hand: `session_start` is
    /// when their session began (`None`: not logged in), `fresh` whether
    /// it began after this request asked for a login.
    pub fn gate(&self, session_start: Option<i64>, fresh: bool, at: i64) -> Gate {
        // prompt=none: pagegrant always asks, so a person would have to act.
        if self.none {
            return match session_start {
                None => Gate::Refuse("login_required", "the user is not logged in"),
                Some(_) => Gate::Refuse(
                    "consent_required",
                    "pagegrant asks the user to choose pages on every authorization",
                ),
            };
        }
        match session_start {
            Some(start) if fresh || !self.wants_login(start, at) => Gate::Show,
            Some(_) => Gate::Relogin,
            None if self.login => Gate::Relogin,
            None => Gate::Login,
        }
    }
}

/// What `Prompt::gate` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// An error at the client (`error`, `error_description`).
    Refuse(&'static str, &'static str),
    /// The login form even for a logged-in person, then back here.
    Relogin,
    /// The login form, then back here.
    Login,
    Show,
}

/// An authorization request that passed every protocol check.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    pub integration: Integration,
    /// The redirect URI to answer at: as sent, or the only registered one.
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    /// The granted scope: asked for, or the integration's capabilities.
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// `workspace_id` as sent (an extension that pre-selects the workspace).
    pub workspace_id: Option<String>,
    /// `prompt` as sent.
    pub prompt: Prompt,
    /// RFC 8707 resources asked for, space-separated ('' = none).
    pub resource: String,
    /// Every parameter as sent, for links that keep the request.
    pub pairs: Vec<(String, String)>,
}

/// What the consent page offers.
pub struct Plan {
    /// Every workspace of the user, for the switcher.
    pub workspaces: Vec<(Workspace, Role)>,
    /// The one the request is for.
    pub workspace: Workspace,
    /// Why this user may not install the integration here, if so.
    pub blocked: Option<String>,
    pub reconnecting: bool,
    /// A dynamic client whose every registered redirect URI is loopback: it
    /// runs on the person's own computer, so no host is worth naming (issue
    /// 17 part 7).
    pub on_this_computer: bool,
    /// The pages the user can share, in tree order, and whether each is
    /// already shared (on a reconnect).
    pub pages: Vec<(TreeRow, bool)>,
    /// Which cached tree `pages` came from, for the rendered rows.
    pub tree: tree_cache::Snapshot,
    /// The pending request the page answers, and its one-time token.
    pub request_id: String,
    pub csrf: String,
    /// A member the approved list stops, who may ask the owners instead
    /// (issue 27 item 3): the page offers **Request approval**.
    pub can_ask: bool,
    /// This person's latest request to approve this integration here.
    pub asked: Option<approval_requests::Seen>,
    /// The request is for the MCP server: what the agent will be able to do.
    pub agent: Option<McpAgent>,
    /// On a reconnect, the capabilities the connection's live grants
    /// already hold: the page shows what the request adds to them
    /// ("also wants to", issue 29 item 2; S103).
    pub held: Vec<Capability>,
}

/// What an AI agent asking for `{issuer}/mcp` will be able to do, in words
/// (issue 27 item 2).
pub struct McpAgent {
    /// "search, read, create and edit": the verbs its capabilities allow.
    pub verbs: String,
    /// Each MCP tool it may call: (name, what it does).
    pub tools: Vec<(&'static str, &'static str)>,
}

/// The MCP tools as a person reads them, with the capabilities any of
/// which makes one usable. Keep in step with `mcp::tools::TOOLS`
/// (docs/mcp.md lists the same four).
const MCP_TOOLS: &[(&str, &str, &[Capability])] = &[
    (
        "Search",
        "finds pages you shared by their title or text",
        &[Capability::ReadContent],
    ),
    (
        "Fetch",
        "reads a page you shared: its content, where it sits and its sub-pages",
        &[Capability::ReadContent],
    ),
    (
        "Create page",
        "adds a new page, with content, under a page you shared",
        &[Capability::InsertContent],
    ),
    (
        "Update page",
        "renames a page you shared, adds content at its end, or moves it to the trash",
        &[Capability::UpdateContent, Capability::InsertContent],
    ),
];

/// The agent's description when `req` asks for the MCP resource.
pub fn mcp_agent(cfg: &Config, req: &ConsentRequest) -> Option<McpAgent> {
    let mcp = crate::domain::resource::mcp(&cfg.server.issuer);
    if !req.resource.split(' ').any(|r| r == mcp) {
        return None;
    }
    let caps: Vec<Capability> = req.scope.split(' ').filter_map(Capability::parse).collect();
    let has = |c: Capability| caps.contains(&c);
    let mut verbs: Vec<&str> = Vec::new();
    if has(Capability::ReadContent) {
        verbs.extend(["search", "read"]);
    }
    if has(Capability::InsertContent) {
        verbs.push("create");
    }
    if has(Capability::UpdateContent) {
        verbs.push("edit");
    } else if has(Capability::InsertContent) {
        verbs.push("add to");
    }
    let verbs = match verbs.split_last() {
        None => "see nothing in".to_string(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    };
    let tools = MCP_TOOLS
        .iter()
        .filter(|(_, _, need)| need.iter().any(|c| has(*c)))
        .map(|(name, what, _)| (*name, *what))
        .collect();
    Some(McpAgent { verbs, tools })
}

/// Pending requests one session keeps; the newest win (issue 15 #3: every
/// view of the consent page records one, and nothing else bounded them).
pub const PENDING_PER_SESSION: i64 = 20;

/// Pending requests one person keeps across all their sessions.
pub const PENDING_PER_USER: i64 = 50;

/// Chooses the workspace, lists the pages the user may share, and records
/// the pending request, dropping the session's oldest beyond
/// `PENDING_PER_SESSION` and every expired one.
pub fn prepare(
    conn: &mut Conn,
    cfg: &Config,
    trees: &TreeCache,
    user: &User,
    session: &Session,
    req: &ConsentRequest,
) -> AppResult<Plan> {
    let mine = workspaces::for_user(conn, &user.id)?;
    if mine.is_empty() {
        return Err(AppError::Forbidden(
            "You are not a member of any workspace, so there is nothing to connect yet.".into(),
        ));
    }
    let selected = match &req.workspace_id {
        None => 0,
        Some(raw) => {
            let wanted = WorkspaceId::parse(raw);
            mine.iter()
                .position(|(w, _)| Some(&w.id) == wanted.as_ref())
                .ok_or_else(|| AppError::Forbidden(
                    "This link asks for a workspace you are not a member of. Use the workspace switcher on a link without workspace_id, or ask to be added."
                        .into(),
                ))?
        }
    };
    let (workspace, role) = mine[selected].clone();
    // A workspace that requires two-step verification: no consent until
    // this person turns it on (issue 28 item 3); the page says why.
    let blocked = match two_step::needs_enrolment(conn, &workspace.id, &user.id)? {
        true => Some(install_policy::Blocked(two_step::REQUIRED.into())),
        false => install_policy::blocked(conn, &workspace, role, &req.integration)?,
    };
    let can_ask = approval_requests::askable(conn, &workspace, role, &req.integration)?;
    let asked = approval_requests::latest(conn, &workspace, &req.integration.id, &user.id)?;
    // Only a live connection is a reconnect: a revoked or disconnected one
    // keeps its page rows (re-consent re-activates it), but pre-ticking
    // them would let one press re-share what its owner just cut off.
    let existing = connections::find_installed(conn, &req.integration.id, &workspace.id, &user.id)?
        .filter(|c| c.status == ConnectionStatus::Active);
    let registered = integrations::redirect_uris(conn, &req.integration.id)?;
    let on_this_computer = req.integration.dynamic
        && !registered.is_empty()
        && registered.iter().all(|u| {
            url::Url::parse(u).is_ok_and(|u| {
                u.scheme() == "http" && crate::domain::integrations::is_loopback_host(&u)
            })
        });
    let (granted, held): (Vec<PageId>, Vec<Capability>) = match &existing {
        Some(c) => (connections::page_ids(conn, &c.id)?, held(conn, &c.id)?),
        None => (Vec::new(), Vec::new()),
    };
    // The tree from the cache while the workspace's pages are unchanged.
    let (tree, visible) = tree_cache::visible(conn, trees, &workspace.id, &user.id)?;
    let pages = visible
        .into_iter()
        .map(|r| {
            let checked = granted.contains(&r.page.id);
            (r, checked)
        })
        .collect();

    let t = now();
    let pending = AuthorizationRequest {
        id: crypto::random_token(16),
        session_id_hash: session.id_hash.clone(),
        integration_id: req.integration.id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        redirect_uri_sent: req.redirect_uri_sent,
        state: req.state.clone(),
        scope: req.scope.clone(),
        code_challenge: req.code_challenge.clone(),
        code_challenge_method: req.code_challenge_method.clone(),
        workspace_id: Some(workspace.id.clone()),
        csrf_binding: crypto::random_token(crypto::SECRET_BYTES),
        created_at: t,
        expires_at: t + cfg.security.consent_ttl_s,
        consumed_at: None,
        created_ms: crate::db::models::now_ms(),
        resource: req.resource.clone(),
    };
    db::write_tx(conn, |c| {
        q::delete_expired_requests(c, t)?;
        q::insert_request(c, &pending)?;
        q::trim_session_requests(
            c,
            &pending.session_id_hash,
            &pending.id,
            PENDING_PER_SESSION - 1,
        )?;
        // One person with many sessions (logins are not bounded per user)
        // is bounded too (S77).
        q::trim_user_requests(c, &session.user_id, &pending.id, PENDING_PER_USER - 1)?;
        Ok(())
    })?;
    Ok(Plan {
        workspaces: mine,
        workspace,
        blocked: blocked.map(|b| b.0),
        reconnecting: existing.is_some(),
        on_this_computer,
        pages,
        tree,
        request_id: pending.id,
        csrf: pending.csrf_binding,
        can_ask,
        asked,
        agent: mcp_agent(cfg, req),
        held,
    })
}

/// The capabilities a connection's live grants hold (its unrevoked,
/// unexpired refresh tokens' scopes), in the canonical order.
pub fn held(conn: &mut Conn, id: &ConnectionId) -> AppResult<Vec<Capability>> {
    let scopes = crate::db::queries::tokens::live_scopes(conn, id, now())?;
    Ok(Capability::ALL
        .iter()
        .copied()
        .filter(|c| scopes.iter().any(|s| c.in_text(s)))
        .collect())
}

/// What `scope` asks for beyond `held`, in the canonical order.
pub fn added(scope: &str, held: &[Capability]) -> Vec<Capability> {
    Capability::ALL
        .iter()
        .copied()
        .filter(|c| c.in_text(scope) && !held.contains(c))
        .collect()
}

/// The person's answer, as posted.
pub struct Decision {
    pub request_id: String,
    pub token: String,
    pub allow: bool,
    pub pages: Vec<String>,
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("request_id", &self.request_id)
            .field("token", &"<hidden>")
            .field("allow", &self.allow)
            .finish()
    }
}

/// What an answer came to, for the protocol to tell the client.
pub enum Answer {
    Denied(Box<AuthorizationRequest>),
    Approved(Box<Approval>),
}

/// A granted request: the connection it made or renewed.
pub struct Approval {
    pub pending: AuthorizationRequest,
    pub integration: Integration,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub connection_id: ConnectionId,
}

fn stale() -> AppError {
    AppError::Forbidden(
        "This consent form is no longer valid (it was already answered, has expired, or belongs to another session). Start again from the integration."
            .into(),
    )
}

/// Answers a pending request once. Everything happens in one transaction: a
/// failure writes nothing and leaves the request usable.
pub fn decide(conn: &mut Conn, user: &User, session: &Session, d: Decision) -> AppResult<Answer> {
    db::write_tx(conn, |conn| {
        let t = now();
        let pending = q::request_by_id(conn, &d.request_id)?.ok_or_else(stale)?;
        // Bound to this session and this request (S47), used once (S48).
        if pending.session_id_hash != session.id_hash
            || d.token.is_empty()
            || !crypto::constant_time_eq(&d.token, &pending.csrf_binding)
            || pending.consumed_at.is_some()
            || pending.expires_at <= t
        {
            return Err(stale());
        }
        if !d.allow {
            if !q::consume_request(conn, &pending.id, t)? {
                return Err(stale());
            }
            return Ok(Answer::Denied(Box::new(pending)));
        }
        let integration = integrations::by_id(conn, &pending.integration_id)?.ok_or_else(stale)?;
        let ws_id = pending.workspace_id.clone().ok_or_else(stale)?;
        let (workspace, role) = role_in(conn, &ws_id, &user.id).map_err(|_| {
            AppError::Forbidden("You are no longer a member of this workspace.".into())
        })?;
        two_step::must_have(conn, &workspace.id, &user.id)?;
        if let Some(blocked) = install_policy::blocked(conn, &workspace, role, &integration)? {
            return Err(AppError::Forbidden(blocked.0));
        }
        let selected = shareable(conn, &workspace, &user.id, &d.pages)?;
        if !q::consume_request(conn, &pending.id, t)? {
            return Err(stale());
        }
        let before = existing_live(conn, &integration, &workspace, &user.id)?;
        let connection_id = install(conn, &integration, &workspace, &user.id)?;
        let rows: Vec<ConnectionPage> = selected
            .iter()
            .map(|p| ConnectionPage {
                connection_id: connection_id.clone(),
                page_id: p.clone(),
                added_by: user.id.clone(),
                added_at: t,
            })
            .collect();
        connections::replace_pages(conn, &connection_id, &rows)?;
        audit::record(
            conn,
            Some(&workspace.id),
            Actor::User(&user.id),
            AuditAction::ConnectionGranted,
            &connection_id,
            granted_detail(
                &integration.name,
                rows.len(),
                &pending.scope,
                before.as_deref(),
            ),
        )?;
        Ok(Answer::Approved(Box::new(Approval {
            pending,
            integration,
            user_id: user.id.clone(),
            workspace_id: workspace.id,
            connection_id,
        })))
    })
}

/// The capabilities a live connection of this client, workspace and person
/// already holds, or `None` when there is none (a first consent).
fn existing_live(
    conn: &mut Conn,
    integration: &Integration,
    workspace: &Workspace,
    user: &UserId,
) -> AppResult<Option<Vec<Capability>>> {
    match connections::find_installed(conn, &integration.id, &workspace.id, user)? {
        Some(c) if c.status == ConnectionStatus::Active => Ok(Some(held(conn, &c.id)?)),
        _ => Ok(None),
    }
}

/// The audit line of an approval: the pages, and on a re-consent that
/// widens the grant (a step-up), the capabilities it adds.
fn granted_detail(name: &str, pages: usize, scope: &str, before: Option<&[Capability]>) -> String {
    let more = before.map(|h| added(scope, h)).unwrap_or_default();
    match more.is_empty() {
        true => format!("{name} ({pages} page(s))"),
        false => format!(
            "{name} ({pages} page(s); now also {})",
            Capability::join(&more)
        ),
    }
}

/// The posted page ids, each one this person can see in this workspace
/// (anything else refuses the whole answer), without repeats.
fn shareable(
    conn: &mut Conn,
    workspace: &Workspace,
    user: &UserId,
    posted: &[String],
) -> AppResult<Vec<PageId>> {
    let forged = || {
        AppError::invalid(
            "One of the selected pages does not exist or is not yours to share; nothing was shared.",
        )
    };
    let mut selected: Vec<PageId> = Vec::new();
    for raw in posted {
        let id = PageId::parse(raw).ok_or_else(forged)?;
        let chain = pages::with_ancestors(conn, &id)?;
        let ok = chain.first().is_some_and(|p| {
            p.workspace_id == workspace.id
                && !chain_trashed(&chain)
                && chain_visible_to(&chain, user)
        });
        if !ok {
            return Err(forged());
        }
        if !selected.contains(&id) {
            selected.push(id);
        }
    }
    Ok(selected)
}

/// One connection per (integration, workspace, installer): reused, a
/// revoked one re-activated with its bot id.
fn install(
    conn: &mut Conn,
    integration: &Integration,
    workspace: &Workspace,
    user: &UserId,
) -> AppResult<ConnectionId> {
    if let Some(existing) = connections::find_installed(conn, &integration.id, &workspace.id, user)?
    {
        if existing.status != ConnectionStatus::Active {
            connections::reactivate(conn, &existing.id)?;
        }
        return Ok(existing.id);
    }
    let c = Connection {
        id: ConnectionId::new(),
        integration_id: integration.id.clone(),
        workspace_id: workspace.id.clone(),
        installed_by: user.clone(),
        bot_id: BotId::new(),
        status: ConnectionStatus::Active,
        created_at: now(),
        revoked_at: None,
        revoked_by: None,
    };
    connections::insert(conn, &c)?;
    Ok(c.id)
}
