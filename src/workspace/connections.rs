//! Settings & members → **Connections** (owners: every connection of the
//! workspace) and **My connections** (everyone: the ones they added), each row
//! with its ••• menu, **Disconnect** behind a confirmation step, and the
//! owners' audit log. Every action checks the actor's role on the server.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{format_date, load_shell_data, parse_ws, shell, Shell};
use crate::db::models::{now, ConnectionId, NewAuditEvent, Role, UserId, WorkspaceId};
use crate::db::queries::{audit, connections, tokens, users};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::web::csrf;
use crate::web::errors::HtmlError;
use crate::web::session::{CsrfForm, CurrentUser};
use crate::AppState;

pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub initial: String,
    pub internal: bool,
    pub added_by: String,
    pub added_on: String,
    pub website: Option<String>,
    pub support_email: Option<String>,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "workspace/settings_connections.html")]
pub struct ConnectionsView {
    pub shell: Shell,
    pub is_owner: bool,
    /// "all" (Connections) or "mine" (My connections).
    pub tab: &'static str,
    pub rows: Vec<ConnectionRow>,
    pub flash: Option<String>,
    pub enterprise: Option<super::policy_pages::Enterprise>,
}

#[derive(Template)]
#[template(path = "workspace/confirm_disconnect.html")]
pub struct ConfirmView {
    pub shell: Shell,
    pub connection_id: String,
    pub name: String,
    pub added_by: String,
}

pub struct AuditRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "workspace/settings_audit.html")]
pub struct AuditView {
    pub shell: Shell,
    pub rows: Vec<AuditRow>,
}

fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

fn user_name(c: &mut Conn, id: &UserId) -> AppResult<String> {
    Ok(users::by_id(c, id)?
        .map(|u| u.name)
        .unwrap_or_else(|| "Unknown".into()))
}

/// The rows a viewer may see: owners every active connection (or their own
/// with `mine`), members only their own.
pub fn list(
    c: &mut Conn,
    ws: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    mine: bool,
) -> AppResult<Vec<ConnectionRow>> {
    let only = if mine || role != Role::Owner {
        Some(viewer)
    } else {
        None
    };
    let mut rows = Vec::new();
    for (conn_row, integration) in connections::active_in_workspace(c, ws, only)? {
        rows.push(ConnectionRow {
            id: conn_row.id.to_string(),
            initial: initial(&integration.name),
            internal: integration.kind == "internal",
            added_by: user_name(c, &conn_row.installed_by)?,
            added_on: format_date(conn_row.created_at),
            website: integration.website_url.clone(),
            support_email: integration.support_email.clone(),
            can_manage: role == Role::Owner || &conn_row.installed_by == viewer,
            name: integration.name,
        });
    }
    Ok(rows)
}

/// The connection `id` of workspace `ws`, if `actor` may manage it: owners
/// any, members their own (403 otherwise); another workspace's id is 404.
fn manageable(
    c: &mut Conn,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
) -> AppResult<(crate::db::models::Connection, String)> {
    let conn_row = connections::by_id(c, id)?
        .filter(|x| &x.workspace_id == ws)
        .ok_or(AppError::NotFound)?;
    if role != Role::Owner && &conn_row.installed_by != actor {
        return Err(AppError::Forbidden(
            "Only workspace owners and the person who added a connection can manage it.".into(),
        ));
    }
    let name = crate::db::queries::integrations::by_id(c, &conn_row.integration_id)?
        .map(|i| i.name)
        .unwrap_or_default();
    Ok((conn_row, name))
}

/// Disconnects: every token of the connection is revoked at once, the
/// connection is marked revoked, and the owners' audit log says who did it.
pub fn disconnect(
    c: &mut Conn,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
) -> AppResult<String> {
    let (conn_row, name) = manageable(c, ws, actor, role, id)?;
    db::write_tx(c, |c| {
        let t = now();
        tokens::revoke_connection_tokens(c, &conn_row.id, t)?;
        if connections::mark_revoked(c, &conn_row.id, Some(actor), t)? > 0 {
            audit::record(
                c,
                &NewAuditEvent {
                    workspace_id: Some(ws.clone()),
                    actor: Some(actor.to_string()),
                    action: "connection.disconnected".into(),
                    target: conn_row.id.to_string(),
                    detail: name.clone(),
                    at: t,
                },
            )?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// The workspace and connection ids of a `/w/{ws}/settings/connections/{id}/…` path.
fn connection_path((ws, cid): (String, String)) -> Result<(WorkspaceId, ConnectionId), HtmlError> {
    Ok((
        parse_ws(&ws)?,
        ConnectionId::parse(&cid).ok_or(HtmlError::NotFound)?,
    ))
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    tab: Option<String>,
    disconnected: Option<String>,
    /// Filter by user, in the approved list.
    user: Option<String>,
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub async fn view_connections_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<SettingsQuery>,
) -> Result<HttpResponse, HtmlError> {
    let ws = parse_ws(&path)?;
    let uid = user.user.id.clone();
    let q = q.into_inner();
    let (loaded, rows, is_owner, tab, flash, enterprise) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        let is_owner = loaded.role == Role::Owner;
        // Members have My connections only.
        let tab = match (q.tab.as_deref(), is_owner) {
            (Some("mine"), _) | (_, false) => "mine",
            _ => "all",
        };
        let rows = list(c, &ws, &uid, loaded.role, tab == "mine")?;
        // The flash names an integration this viewer may know about, by id, never echoed text.
        let flash = match q.disconnected.as_deref().and_then(ConnectionId::parse) {
            Some(id) => match manageable(c, &ws, &uid, loaded.role, &id) {
                Ok((_, name)) => Some(format!("Disconnected {name}")),
                Err(_) => None,
            },
            None => None,
        };
        let enterprise = if tab == "all" {
            super::policy_pages::enterprise(c, &ws, loaded.role, q.user.as_deref())?
        } else {
            None
        };
        Ok((loaded, rows, is_owner, tab, flash, enterprise))
    })
    .await?;
    let view = ConnectionsView {
        shell: shell(&user, &loaded, None),
        is_owner,
        tab,
        rows,
        flash,
        enterprise,
    };
    Ok(html(view.render()?))
}

pub async fn view_disconnect_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HtmlError> {
    let (ws, cid) = connection_path(path.into_inner())?;
    let uid = user.user.id.clone();
    let (loaded, conn_row, name, added_by) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        let (conn_row, name) = manageable(c, &ws, &uid, loaded.role, &cid)?;
        let added_by = user_name(c, &conn_row.installed_by)?;
        Ok((loaded, conn_row, name, added_by))
    })
    .await?;
    let view = ConfirmView {
        shell: shell(&user, &loaded, None),
        connection_id: conn_row.id.to_string(),
        name,
        added_by,
    };
    Ok(html(view.render()?))
}

pub async fn view_disconnect_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let (ws, cid) = connection_path(path.into_inner())?;
    let uid = user.user.id.clone();
    let (ws2, cid2) = (ws.clone(), cid.clone());
    db::run(&state.pool, move |c| {
        let (_, role) = super::service::role_in(c, &ws2, &uid)?;
        disconnect(c, &ws2, &uid, role, &cid2)
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/w/{ws}/settings/connections?disconnected={cid}"),
        ))
        .finish())
}

pub async fn view_audit_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, HtmlError> {
    let ws = parse_ws(&path)?;
    let uid = user.user.id.clone();
    let (loaded, rows) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        if loaded.role != Role::Owner {
            return Err(AppError::Forbidden(
                "Only workspace owners can see the audit log.".into(),
            ));
        }
        let mut rows = Vec::new();
        for e in audit::for_workspace(c, &ws)? {
            let who = match e.actor.as_deref().and_then(UserId::parse) {
                Some(id) => user_name(c, &id)?,
                None => e.actor.clone().unwrap_or_else(|| "pagegrant".into()),
            };
            let when = time::OffsetDateTime::from_unix_timestamp(e.at)
                .ok()
                .and_then(|t| {
                    t.format(&time::macros::format_description!(
                        "[year]-[month]-[day] [hour]:[minute] UTC"
                    ))
                    .ok()
                })
                .unwrap_or_default();
            rows.push(AuditRow {
                when,
                who,
                action: e.action,
                detail: e.detail,
            });
        }
        Ok((loaded, rows))
    })
    .await?;
    let view = AuditView {
        shell: shell(&user, &loaded, None),
        rows,
    };
    Ok(html(view.render()?))
}

#[derive(Template)]
#[template(path = "workspace/internal_token.html")]
pub struct TokenView {
    pub shell: Shell,
    pub connection_id: String,
    pub name: String,
    /// Present only after the owner pressed the button (a POST, audited).
    pub token: Option<String>,
}

/// An internal integration's token, decrypted for an owner; every retrieval
/// is an audit event.
pub fn retrieve_token(
    c: &mut Conn,
    sbox: &crate::crypto::SecretBox,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
) -> AppResult<(String, Option<String>)> {
    if role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only workspace owners can see internal integration tokens.".into(),
        ));
    }
    let (conn_row, name) = manageable(c, ws, actor, role, id)?;
    use crate::db::schema::internal_tokens;
    use diesel::prelude::*;
    let sealed: Option<String> = internal_tokens::table
        .find(&conn_row.id)
        .select(internal_tokens::encrypted)
        .first(c)
        .optional()?;
    let Some(sealed) = sealed else {
        return Err(AppError::invalid(
            "This connection is not an internal integration; it has no token to copy.",
        ));
    };
    let token = sbox.decrypt(&sealed)?;
    audit::record(
        c,
        &NewAuditEvent {
            workspace_id: Some(ws.clone()),
            actor: Some(actor.to_string()),
            action: "token.retrieved".into(),
            target: conn_row.id.to_string(),
            detail: name.clone(),
            at: now(),
        },
    )?;
    Ok((name, Some(token)))
}

pub async fn view_token_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HtmlError> {
    let (ws, cid) = connection_path(path.into_inner())?;
    let cid_raw = cid.to_string();
    let uid = user.user.id.clone();
    let (loaded, name) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        if loaded.role != Role::Owner {
            return Err(AppError::Forbidden(
                "Only workspace owners can see internal integration tokens.".into(),
            ));
        }
        let (_, name) = manageable(c, &ws, &uid, loaded.role, &cid)?;
        Ok((loaded, name))
    })
    .await?;
    let view = TokenView {
        shell: shell(&user, &loaded, None),
        connection_id: cid_raw,
        name,
        token: None,
    };
    Ok(html(view.render()?))
}

pub async fn view_token_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let (ws, cid) = connection_path(path.into_inner())?;
    let cid_raw = cid.to_string();
    let uid = user.user.id.clone();
    let st = state.clone();
    let (loaded, (name, token)) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        let out = retrieve_token(c, &st.secret_box, &ws, &uid, loaded.role, &cid)?;
        Ok((loaded, out))
    })
    .await?;
    let view = TokenView {
        shell: shell(&user, &loaded, None),
        connection_id: cid_raw,
        name,
        token,
    };
    Ok(html(view.render()?))
}

pub struct AccessRow {
    pub name: String,
    pub added_on: String,
    pub pages: Vec<String>,
}

#[derive(Template)]
#[template(path = "workspace/users_with_access.html")]
pub struct UsersView {
    pub shell: Shell,
    pub name: String,
    pub rows: Vec<AccessRow>,
}

/// Everyone who installed this connection's integration in the workspace,
/// with the pages each connection was given (members: only themselves).
pub async fn view_users_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HtmlError> {
    let (ws, cid) = connection_path(path.into_inner())?;
    let uid = user.user.id.clone();
    let (loaded, name, rows) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        let (target, name) = manageable(c, &ws, &uid, loaded.role, &cid)?;
        let only = if loaded.role == Role::Owner {
            None
        } else {
            Some(&uid)
        };
        let mut rows = Vec::new();
        for (conn_row, _) in connections::active_in_workspace(c, &ws, only)? {
            if conn_row.integration_id != target.integration_id {
                continue;
            }
            let mut pages = Vec::new();
            for pid in connections::page_ids(c, &conn_row.id)? {
                if let Some(p) = crate::db::queries::pages::by_id(c, &pid)? {
                    pages.push(super::display_title(&p.title));
                }
            }
            rows.push(AccessRow {
                name: user_name(c, &conn_row.installed_by)?,
                added_on: format_date(conn_row.created_at),
                pages,
            });
        }
        Ok((loaded, name, rows))
    })
    .await?;
    let view = UsersView {
        shell: shell(&user, &loaded, None),
        name,
        rows,
    };
    Ok(html(view.render()?))
}
