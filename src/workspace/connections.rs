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
    /// What **+ Add connection** offers here.
    pub add: Vec<AddOption>,
}

/// One public integration in **+ Add connection**: a link that starts the
/// consent flow with this workspace pre-selected, or why it cannot be added.
pub struct AddOption {
    pub name: String,
    pub icon: String,
    pub developer: String,
    pub href: Option<String>,
    pub note: Option<String>,
}

/// The public integrations a user may install in `ws`: each starts the
/// consent flow at its first redirect URI with this workspace pre-selected.
/// Public clients need a PKCE challenge only their own site can make, so
/// those are sent to the developer's website instead; integrations the
/// install policy forbids say why.
pub fn add_options(
    c: &mut Conn,
    ws: &crate::db::models::Workspace,
    role: Role,
) -> AppResult<Vec<AddOption>> {
    use crate::db::models::ClientType;
    use crate::db::queries::integrations as iq;
    let mut out = Vec::new();
    for i in iq::public(c)? {
        let Some(uri) = iq::redirect_uris(c, &i.id)?.into_iter().next() else {
            continue;
        };
        let (href, note) = match super::policy::can_install(c, ws, role, &i)? {
            Err(_) => (
                None,
                Some("Not on this workspace's approved list".to_string()),
            ),
            Ok(()) if ClientType::parse(&i.client_type) == Some(ClientType::Public) => {
                match i.website_url.clone() {
                    Some(w) => (Some(w), Some("Connect from the developer's website".into())),
                    None => (None, Some("Connect from the developer's app".into())),
                }
            }
            Ok(()) => {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("client_id", &i.client_id)
                    .append_pair("response_type", "code")
                    .append_pair("owner", "user")
                    .append_pair("redirect_uri", &uri)
                    .append_pair("workspace_id", ws.id.as_str())
                    .finish();
                (Some(format!("/v1/oauth/authorize?{q}")), None)
            }
        };
        out.push(AddOption {
            icon: i
                .icon
                .clone()
                .filter(|x| !x.is_empty())
                .unwrap_or_else(|| initial(&i.name)),
            developer: i.developer_name.clone(),
            name: i.name,
            href,
            note,
        });
    }
    Ok(out)
}

/// Creates an internal integration for this workspace from **+ Add
/// connection** (owners only), installed by the owner who made it.
pub fn create_internal(
    c: &mut Conn,
    sbox: &crate::crypto::SecretBox,
    ws: &WorkspaceId,
    actor: &UserId,
    name: &str,
) -> AppResult<crate::integrations::Created> {
    let (w, role) = super::service::role_in(c, ws, actor)?;
    if role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only workspace owners can create an internal integration here; members can create one under My integrations where the workspace allows it.".into(),
        ));
    }
    let creator = users::by_id(c, actor)?.ok_or(AppError::NotFound)?;
    crate::integrations::register(
        c,
        sbox,
        crate::integrations::NewIntegration {
            name: name.to_string(),
            kind: Some(crate::db::models::IntegrationKind::Internal),
            workspace: Some(w),
            created_by: Some(creator),
            ..Default::default()
        },
    )
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
    /// An internal integration just created here (its connection id).
    created: Option<String>,
    /// An Enterprise action just done, with the integration it concerned.
    done: Option<String>,
    integration: Option<String>,
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
    let (loaded, rows, is_owner, tab, flash, enterprise, add) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        let is_owner = loaded.role == Role::Owner;
        // Members have My connections only.
        let tab = match (q.tab.as_deref(), is_owner) {
            (Some("mine"), _) | (_, false) => "mine",
            _ => "all",
        };
        let rows = list(c, &ws, &uid, loaded.role, tab == "mine")?;
        // The flash names an integration this viewer may know about, by id, never echoed text.
        let named = |c: &mut Conn, raw: Option<&str>| -> AppResult<Option<String>> {
            match raw.and_then(ConnectionId::parse) {
                Some(id) => Ok(manageable(c, &ws, &uid, loaded.role, &id)
                    .ok()
                    .map(|(_, name)| name)),
                None => Ok(None),
            }
        };
        let flash = if let Some(name) = named(c, q.disconnected.as_deref())? {
            Some(format!("Disconnected {name}"))
        } else if let Some(name) = named(c, q.created.as_deref())? {
            Some(format!(
                "Created {name}. Copy its token from its ••• menu: Copy internal integration token."
            ))
        } else if is_owner {
            super::policy_pages::flash(c, q.done.as_deref(), q.integration.as_deref())?
        } else {
            None
        };
        let add = add_options(c, &loaded.workspace, loaded.role)?;
        let enterprise = if tab == "all" {
            super::policy_pages::enterprise(c, &ws, loaded.role, q.user.as_deref())?
        } else {
            None
        };
        Ok((loaded, rows, is_owner, tab, flash, enterprise, add))
    })
    .await?;
    let view = ConnectionsView {
        shell: shell(&user, &loaded, None),
        is_owner,
        tab,
        rows,
        flash,
        enterprise,
        add,
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
    let Some(sealed) = connections::internal_token_sealed(c, &conn_row.id)? else {
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

#[derive(Deserialize)]
pub struct InternalForm {
    csrf: Option<String>,
    name: Option<String>,
}

pub async fn view_internal_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Option<web::Form<InternalForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let ws = parse_ws(&path)?;
    let name = form.and_then(|f| f.into_inner().name).unwrap_or_default();
    let uid = user.user.id.clone();
    let st = state.clone();
    let w = ws.clone();
    let made = db::run(&state.pool, move |c| {
        create_internal(c, &st.secret_box, &w, &uid, &name)
    })
    .await?;
    let cid = made
        .connection_id
        .map(|c| c.to_string())
        .unwrap_or_default();
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/w/{ws}/settings/connections?created={cid}"),
        ))
        .finish())
}
