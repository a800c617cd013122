//! The Enterprise block of Settings & members → Connections (owners of
//! Enterprise workspaces only): **Restrict members from installing
//! connections**, **Auto-approve connections built by pagegrant**, and
//! **Approved connections** with **+ Add approved connection** and each row's
//! **Filter by user**, **Revoke access**, **Disconnect all users**, **Remove
//! from approved list**.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::connections::disconnect;
use super::parse_ws;
use crate::db::models::{now, IntegrationId, NewAuditEvent, Plan, Role, UserId, WorkspaceId};
use crate::db::queries::{audit, connections, users, workspaces};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::web::csrf;
use crate::web::errors::HtmlError;
use crate::web::session::CurrentUser;
use crate::AppState;

pub struct Installer {
    pub user_id: String,
    pub name: String,
    pub connection_id: String,
}

pub struct ApprovedRow {
    pub integration_id: String,
    pub name: String,
    pub installers: Vec<Installer>,
}

pub struct Enterprise {
    pub restricted: bool,
    pub auto_approve: bool,
    pub approved: Vec<ApprovedRow>,
    /// Installed here, not yet approved: what **+ Add approved connection** offers.
    pub candidates: Vec<(String, String)>,
    pub filter_user: Option<String>,
}

/// The Enterprise block for an owner, `None` for anyone or anything else.
pub fn enterprise(
    c: &mut Conn,
    ws: &WorkspaceId,
    role: Role,
    filter_user: Option<&str>,
) -> AppResult<Option<Enterprise>> {
    let Some(w) = workspaces::by_id(c, ws)? else {
        return Ok(None);
    };
    if role != Role::Owner || Plan::parse(&w.plan) != Some(Plan::Enterprise) {
        return Ok(None);
    }
    let active = connections::active_in_workspace(c, ws, None)?;
    let approved_list = connections::approved(c, ws)?;
    let mut approved = Vec::new();
    for i in &approved_list {
        let mut installers = Vec::new();
        for (conn_row, _) in active.iter().filter(|(x, _)| x.integration_id == i.id) {
            if filter_user.is_some_and(|f| f != conn_row.installed_by.as_str()) {
                continue;
            }
            let name = users::by_id(c, &conn_row.installed_by)?
                .map(|u| u.name)
                .unwrap_or_default();
            installers.push(Installer {
                user_id: conn_row.installed_by.to_string(),
                name,
                connection_id: conn_row.id.to_string(),
            });
        }
        if filter_user.is_some() && installers.is_empty() {
            continue;
        }
        approved.push(ApprovedRow {
            integration_id: i.id.to_string(),
            name: i.name.clone(),
            installers,
        });
    }
    let mut candidates: Vec<(String, String)> = Vec::new();
    for (_, i) in &active {
        if !approved_list.iter().any(|a| a.id == i.id)
            && !candidates.iter().any(|(id, _)| id == i.id.as_str())
        {
            candidates.push((i.id.to_string(), i.name.clone()));
        }
    }
    Ok(Some(Enterprise {
        restricted: w.install_policy == "approved_only",
        auto_approve: w.auto_approve_first_party,
        approved,
        candidates,
        filter_user: filter_user.map(String::from),
    }))
}

fn owner_of_enterprise(c: &mut Conn, ws: &WorkspaceId, actor: &UserId) -> AppResult<()> {
    let (w, role) = super::service::role_in(c, ws, actor)?;
    if role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only workspace owners can change who may install connections.".into(),
        ));
    }
    if Plan::parse(&w.plan) != Some(Plan::Enterprise) {
        return Err(AppError::Forbidden(
            "Install restrictions are part of the Enterprise plan.".into(),
        ));
    }
    Ok(())
}

fn record(
    c: &mut Conn,
    ws: &WorkspaceId,
    actor: &UserId,
    action: &str,
    target: &str,
    detail: String,
) -> AppResult<()> {
    audit::record(
        c,
        &NewAuditEvent {
            workspace_id: Some(ws.clone()),
            actor: Some(actor.to_string()),
            action: action.into(),
            target: target.into(),
            detail,
            at: now(),
        },
    )?;
    Ok(())
}

#[derive(Deserialize)]
pub struct EnterpriseForm {
    csrf: Option<String>,
    action: Option<String>,
    policy: Option<String>,
    auto_approve: Option<String>,
    integration_id: Option<String>,
}

/// One POST endpoint for the block's actions, each checked for an owner of an
/// Enterprise workspace.
pub async fn view_enterprise_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Option<web::Form<EnterpriseForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let Some(form) = form.map(|f| f.into_inner()) else {
        return Err(HtmlError::BadRequest("The form could not be read.".into()));
    };
    let ws = parse_ws(&path)?;
    let uid = user.user.id.clone();
    let w = ws.clone();
    let done = match form.action.as_deref() {
        Some(a @ ("policy" | "approve" | "unapprove" | "disconnect_all")) => a.to_string(),
        _ => String::new(),
    };
    let about = form
        .integration_id
        .as_deref()
        .and_then(IntegrationId::parse)
        .map(|i| i.to_string())
        .unwrap_or_default();
    db::run(&state.pool, move |c| {
        owner_of_enterprise(c, &w, &uid)?;
        let integration = || -> AppResult<IntegrationId> {
            form.integration_id
                .as_deref()
                .and_then(IntegrationId::parse)
                .ok_or_else(|| AppError::invalid("Choose a connection."))
        };
        db::write_tx(c, |c| match form.action.as_deref() {
            Some("policy") => {
                let policy = match form.policy.as_deref() {
                    Some("open") => "open",
                    Some("approved_only") => "approved_only",
                    _ => {
                        return Err(AppError::invalid(
                            "Choose No restrictions or Only from approved list.",
                        ))
                    }
                };
                let auto = form.auto_approve.is_some();
                workspaces::set_install_policy(c, &w, policy, auto)?;
                record(
                    c,
                    &w,
                    &uid,
                    "policy.changed",
                    w.as_str(),
                    format!("install policy {policy}, auto-approve first-party {auto}"),
                )
            }
            Some("approve") => {
                let id = integration()?;
                // Only integrations already installed here can be approved.
                if !connections::active_in_workspace(c, &w, None)?
                    .iter()
                    .any(|(_, i)| i.id == id)
                {
                    return Err(AppError::invalid(
                        "Only connections already installed in this workspace can be approved.",
                    ));
                }
                connections::approve(c, &w, &id, &uid, now())?;
                record(
                    c,
                    &w,
                    &uid,
                    "integration.approved",
                    id.as_str(),
                    String::new(),
                )
            }
            Some("unapprove") => {
                let id = integration()?;
                connections::unapprove(c, &w, &id)?;
                record(
                    c,
                    &w,
                    &uid,
                    "integration.unapproved",
                    id.as_str(),
                    String::new(),
                )
            }
            Some("disconnect_all") => {
                let id = integration()?;
                for (conn_row, _) in connections::active_in_workspace(c, &w, None)?
                    .into_iter()
                    .filter(|(_, i)| i.id == id)
                {
                    disconnect(c, &w, &uid, Role::Owner, &conn_row.id)?;
                }
                Ok(())
            }
            _ => Err(AppError::invalid("Unknown action.")),
        })
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/w/{ws}/settings/connections?done={done}&integration={about}"),
        ))
        .finish())
}

/// The flash after an Enterprise action, naming the integration by its id
/// (never echoing text from the address bar).
pub fn flash(
    c: &mut Conn,
    done: Option<&str>,
    integration: Option<&str>,
) -> AppResult<Option<String>> {
    let name = match integration.and_then(IntegrationId::parse) {
        Some(id) => crate::db::queries::integrations::by_id(c, &id)?.map(|i| i.name),
        None => None,
    };
    Ok(match (done, name) {
        (Some("policy"), _) => Some("Saved who may install connections".into()),
        (Some("approve"), Some(n)) => Some(format!("Approved {n}")),
        (Some("unapprove"), Some(n)) => Some(format!("Removed {n} from the approved list")),
        (Some("disconnect_all"), Some(n)) => Some(format!("Disconnected {n} for all users")),
        _ => None,
    })
}

#[derive(askama::Template)]
#[template(path = "workspace/confirm_disconnect_all.html")]
pub struct ConfirmAllView {
    pub shell: super::Shell,
    pub integration_id: String,
    pub name: String,
    pub installers: Vec<String>,
}

#[derive(Deserialize)]
pub struct DisconnectAllQuery {
    integration_id: Option<String>,
}

/// The confirmation step before **Disconnect all users**.
pub async fn view_disconnect_all_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<DisconnectAllQuery>,
) -> Result<HttpResponse, HtmlError> {
    use askama::Template;
    let ws = parse_ws(&path)?;
    let id = q
        .integration_id
        .as_deref()
        .and_then(IntegrationId::parse)
        .ok_or(HtmlError::NotFound)?;
    let uid = user.user.id.clone();
    let (loaded, name, installers) = db::run(&state.pool, move |c| {
        let loaded = super::load_shell_data(c, &ws, &uid)?;
        owner_of_enterprise(c, &ws, &uid)?;
        let active: Vec<_> = connections::active_in_workspace(c, &ws, None)?
            .into_iter()
            .filter(|(_, i)| i.id == id)
            .collect();
        let Some(name) = active.first().map(|(_, i)| i.name.clone()) else {
            return Err(AppError::NotFound);
        };
        let mut installers = Vec::new();
        for (conn_row, _) in &active {
            installers.push(
                users::by_id(c, &conn_row.installed_by)?
                    .map(|u| u.name)
                    .unwrap_or_default(),
            );
        }
        Ok((loaded, name, installers))
    })
    .await?;
    let view = ConfirmAllView {
        shell: super::shell(&user, &loaded, None),
        integration_id: q.integration_id.clone().unwrap_or_default(),
        name,
        installers,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(view.render()?))
}
