//! Consent without HTTP: what the page shows (`prepare`, which also records
//! the pending request) and what an answer does (`decide`).

use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant};

use crate::config::Config;
use crate::crypto;
use crate::db::models::{
    now, AuthorizationRequest, BotId, Connection, ConnectionId, ConnectionPage, NewAuditEvent,
    PageId, Role, Session, User, WorkspaceId,
};
use crate::db::queries::{audit, connections, integrations, oauth as q, pages, workspaces};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::oauth::authorize::{authorize_url_with, redirect_with, ErrorRedirect, ValidRequest};
use crate::oauth::endpoint::{CodeBinding, DbAuthorizer};
use crate::workspace::{policy, service as ws};

/// Plain words for each capability, as the consent page lists them.
pub fn capability_words(name: &str) -> &'static str {
    match name {
        "read_content" => "Read content",
        "update_content" => "Update content",
        "insert_content" => "Insert content",
        "read_comments" => "Read comments",
        "insert_comments" => "Insert comments",
        "read_user_with_email" => "Read user information including email addresses",
        "read_user_without_email" => "Read user information without email addresses",
        _ => "Unknown capability",
    }
}

pub struct SwitchItem {
    pub name: String,
    pub initial: String,
    pub role: String,
    pub href: String,
    pub current: bool,
}

pub struct PickerRow {
    pub id: String,
    pub title: String,
    pub depth: usize,
    pub private: bool,
    pub checked: bool,
}

/// Everything the consent page shows.
pub struct ConsentData {
    pub integration_name: String,
    pub integration_initial: String,
    pub developer: String,
    pub redirect_host: String,
    pub website: Option<String>,
    pub capabilities: Vec<&'static str>,
    pub user_email: String,
    pub workspace_name: String,
    pub workspace_initial: String,
    pub switcher: Vec<SwitchItem>,
    pub blocked: Option<String>,
    pub reconnecting: bool,
    pub pages: Vec<PickerRow>,
    pub checked_count: usize,
    pub request_id: String,
    pub csrf: String,
}

fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

/// Where the integration sends people back to, as a person reads it.
fn redirect_host(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) => match u.host_str() {
            Some(h) => match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            },
            None => format!("{}: (an app on your device)", u.scheme()),
        },
        Err(_) => uri.to_string(),
    }
}

/// Builds the consent page for a valid request and records it as pending.
pub fn prepare(
    conn: &mut Conn,
    cfg: &Config,
    user: &User,
    session: &Session,
    req: ValidRequest,
) -> AppResult<ConsentData> {
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
            match mine.iter().position(|(w, _)| Some(&w.id) == wanted.as_ref()) {
                Some(i) => i,
                None => {
                    return Err(AppError::Forbidden(
                        "This link asks for a workspace you are not a member of. Use the workspace switcher on a link without workspace_id, or ask to be added."
                            .into(),
                    ))
                }
            }
        }
    };
    let (workspace, role_name) = mine[selected].clone();
    let role = Role::parse(&role_name).unwrap_or(Role::Member);
    let blocked = policy::can_install(conn, &workspace, role, &req.integration)?.err();
    let existing = connections::find_installed(conn, &req.integration.id, &workspace.id, &user.id)?;
    let granted: Vec<PageId> = match &existing {
        Some(c) => connections::page_ids(conn, &c.id)?,
        None => Vec::new(),
    };
    let tree = ws::visible_tree(pages::in_workspace(conn, &workspace.id)?, &user.id);
    let rows: Vec<PickerRow> = tree
        .iter()
        .map(|r| PickerRow {
            id: r.page.id.to_string(),
            title: crate::workspace::display_title(&r.page.title),
            depth: r.depth.min(8),
            private: r.page.visibility == "private",
            checked: granted.contains(&r.page.id),
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
    };
    db::write_tx(conn, |c| {
        q::delete_expired_requests(c, t)?;
        q::insert_request(c, &pending)?;
        Ok(())
    })?;

    Ok(ConsentData {
        integration_name: req.integration.name.clone(),
        integration_initial: initial(&req.integration.name),
        developer: req.integration.developer_name.clone(),
        redirect_host: redirect_host(&req.redirect_uri),
        website: req.integration.website_url.clone(),
        capabilities: req
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(capability_words)
            .collect(),
        user_email: user.email.clone(),
        workspace_name: workspace.name.clone(),
        workspace_initial: initial(&workspace.name),
        switcher: mine
            .iter()
            .map(|(w, r)| SwitchItem {
                name: w.name.clone(),
                initial: initial(&w.name),
                role: r.clone(),
                href: authorize_url_with(&req.pairs, "workspace_id", w.id.as_str()),
                current: w.id == workspace.id,
            })
            .collect(),
        blocked: blocked.map(|b| b.0),
        reconnecting: existing.is_some(),
        checked_count: rows.iter().filter(|r| r.checked).count(),
        pages: rows,
        request_id: pending.id,
        csrf: pending.csrf_binding,
    })
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

fn stale() -> AppError {
    AppError::Forbidden(
        "This consent form is no longer valid (it was already answered, has expired, or belongs to another session). Start again from the integration."
            .into(),
    )
}

/// Answers a pending request once. Everything happens in one transaction: a
/// failure writes nothing and leaves the request usable.
pub fn decide(
    conn: &mut Conn,
    cfg: &Config,
    user: &User,
    session: &Session,
    d: Decision,
) -> AppResult<String> {
    let issuer = cfg.server.issuer.clone();
    let code_ttl = cfg.tokens.code_ttl_s;
    db::write_tx(conn, |conn| {
        let t = now();
        let Some(pending) = q::request_by_id(conn, &d.request_id)? else {
            return Err(stale());
        };
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
            return Ok(ErrorRedirect {
                redirect_uri: pending.redirect_uri.clone(),
                error: "access_denied",
                description: "the user declined the request".into(),
                state: pending.state.clone(),
            }
            .location(&issuer));
        }

        let integration = integrations::by_id(conn, &pending.integration_id)?.ok_or_else(stale)?;
        let ws_id = pending.workspace_id.clone().ok_or_else(stale)?;
        let (workspace, role) = ws::role_in(conn, &ws_id, &user.id).map_err(|_| {
            AppError::Forbidden("You are no longer a member of this workspace.".into())
        })?;
        if let Err(blocked) = policy::can_install(conn, &workspace, role, &integration)? {
            return Err(AppError::Forbidden(blocked.0));
        }

        // Every page must be one this person can see in this workspace.
        let mut selected: Vec<PageId> = Vec::new();
        for raw in &d.pages {
            let forged = || {
                AppError::invalid("One of the selected pages does not exist or is not yours to share; nothing was shared.")
            };
            let id = PageId::parse(raw).ok_or_else(forged)?;
            let chain = pages::with_ancestors(conn, &id)?;
            let ok = match chain.first() {
                Some(p) => {
                    p.workspace_id == workspace.id
                        && !p.in_trash
                        && ws::chain_visible_to(&chain, &user.id)
                }
                None => false,
            };
            if !ok {
                return Err(forged());
            }
            if !selected.contains(&id) {
                selected.push(id);
            }
        }

        if !q::consume_request(conn, &pending.id, t)? {
            return Err(stale());
        }
        // One connection per (integration, workspace, installer): reuse it,
        // re-activating a revoked one with its bot_id.
        let connection_id =
            match connections::find_installed(conn, &integration.id, &workspace.id, &user.id)? {
                Some(existing) => {
                    if existing.status != "active" {
                        connections::reactivate(conn, &existing.id)?;
                    }
                    existing.id
                }
                None => {
                    let c = Connection {
                        id: ConnectionId::new(),
                        integration_id: integration.id.clone(),
                        workspace_id: workspace.id.clone(),
                        installed_by: user.id.clone(),
                        bot_id: BotId::new(),
                        status: "active".into(),
                        created_at: t,
                        revoked_at: None,
                        revoked_by: None,
                    };
                    connections::insert(conn, &c)?;
                    c.id
                }
            };
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
            &NewAuditEvent {
                workspace_id: Some(workspace.id.clone()),
                actor: Some(user.id.to_string()),
                action: "connection.granted".into(),
                target: connection_id.to_string(),
                detail: format!("{} ({} page(s))", integration.name, rows.len()),
                at: t,
            },
        )?;

        let redirect = url::Url::parse(&pending.redirect_uri)
            .map_err(|_| AppError::internal("stored redirect URI does not parse"))?;
        let scope = pending
            .scope
            .parse()
            .map_err(|_| AppError::internal("stored scope does not parse"))?;
        let until = chrono::Utc::now() + chrono::Duration::seconds(code_ttl);
        let mut authorizer = DbAuthorizer::issuing(
            conn,
            CodeBinding {
                integration_id: integration.id.clone(),
                user_id: user.id.clone(),
                workspace_id: workspace.id.clone(),
                connection_id: connection_id.clone(),
                redirect_uri_sent: pending
                    .redirect_uri_sent
                    .then(|| pending.redirect_uri.clone()),
                code_challenge: pending.code_challenge.clone(),
                code_challenge_method: pending.code_challenge_method.clone(),
            },
        );
        let code = authorizer
            .authorize(Grant {
                owner_id: connection_id.to_string(),
                client_id: integration.client_id.clone(),
                scope,
                redirect_uri: redirect,
                until,
                extensions: Extensions::new(),
            })
            .map_err(|_| AppError::internal("issuing a code failed"))?;
        let mut params = vec![("code", code.as_str())];
        if let Some(s) = &pending.state {
            params.push(("state", s.as_str()));
        }
        params.push(("iss", issuer.as_str()));
        Ok(redirect_with(&pending.redirect_uri, &params))
    })
}
