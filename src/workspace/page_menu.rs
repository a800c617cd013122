//! The page **•••** menu: **Add connections** (connections of this workspace
//! the person may manage: owners all, members their own) and the connections
//! that reach the page — added to it directly, each with **Disconnect**, or
//! through an ancestor, shown as "via ‹ancestor›".

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{display_title, parse_ws};
use crate::db::models::{
    now, ConnectionId, ConnectionPage, NewAuditEvent, Page, PageId, Role, UserId, WorkspaceId,
};
use crate::db::queries::{audit, connections, pages, users};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::web::csrf;
use crate::web::errors::HtmlError;
use crate::web::session::CurrentUser;
use crate::workspace::{policy, service as ws};
use crate::AppState;

/// A connection that reaches the page.
pub struct Reach {
    pub connection_id: String,
    pub name: String,
    pub added_by: String,
    /// `None`: added to this page; `Some((id, title))`: through that ancestor.
    pub via: Option<(String, String)>,
    pub can_manage: bool,
}

/// A connection that could be added here.
pub struct Addable {
    pub connection_id: String,
    pub name: String,
    pub added_by: String,
}

pub struct Menu {
    pub reaching: Vec<Reach>,
    pub addable: Vec<Addable>,
}

/// What the menu shows for `chain` (the page first, then its ancestors).
pub fn menu(
    c: &mut Conn,
    wsid: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    chain: &[Page],
) -> AppResult<Menu> {
    let Some(page) = chain.first() else {
        return Ok(Menu {
            reaching: Vec::new(),
            addable: Vec::new(),
        });
    };
    let mut reaching = Vec::new();
    let mut addable = Vec::new();
    for (conn_row, integration) in connections::active_in_workspace(c, wsid, None)? {
        // A connection reaches only what its installer can see.
        if !ws::chain_visible_to(chain, &conn_row.installed_by) {
            continue;
        }
        let can_manage = role == Role::Owner || conn_row.installed_by == *viewer;
        let shared = connections::page_ids(c, &conn_row.id)?;
        let added_by = users::by_id(c, &conn_row.installed_by)?
            .map(|u| u.name)
            .unwrap_or_default();
        let via = chain.iter().find(|p| shared.contains(&p.id));
        match via {
            Some(p) if p.id == page.id => reaching.push(Reach {
                connection_id: conn_row.id.to_string(),
                name: integration.name.clone(),
                added_by,
                via: None,
                can_manage,
            }),
            Some(p) => reaching.push(Reach {
                connection_id: conn_row.id.to_string(),
                name: integration.name.clone(),
                added_by,
                via: Some((p.id.to_string(), display_title(&p.title))),
                can_manage,
            }),
            None if can_manage => addable.push(Addable {
                connection_id: conn_row.id.to_string(),
                name: integration.name.clone(),
                added_by,
            }),
            None => {}
        }
    }
    Ok(Menu { reaching, addable })
}

/// The page, visible to the actor, in this workspace; and the connection,
/// manageable by the actor, in this workspace.
fn checked(
    c: &mut Conn,
    wsid: &WorkspaceId,
    actor: &UserId,
    page: &PageId,
    cid: &ConnectionId,
) -> AppResult<(Role, Vec<Page>, crate::db::models::Connection)> {
    let (workspace, role) = ws::role_in(c, wsid, actor)?;
    let chain = pages::with_ancestors(c, page)?;
    match chain.first() {
        Some(p)
            if p.workspace_id == workspace.id
                && !p.in_trash
                && ws::chain_visible_to(&chain, actor) => {}
        _ => return Err(AppError::NotFound),
    }
    let conn_row = connections::by_id(c, cid)?
        .filter(|x| x.workspace_id == workspace.id && x.status == "active")
        .ok_or(AppError::NotFound)?;
    if role != Role::Owner && conn_row.installed_by != *actor {
        return Err(AppError::Forbidden(
            "Only workspace owners and the person who added a connection can change its pages."
                .into(),
        ));
    }
    let integration = crate::db::queries::integrations::by_id(c, &conn_row.integration_id)?
        .ok_or(AppError::NotFound)?;
    if let Err(blocked) = policy::can_install(c, &workspace, role, &integration)? {
        return Err(AppError::Forbidden(blocked.0));
    }
    Ok((role, chain, conn_row))
}

pub fn add(
    c: &mut Conn,
    wsid: &WorkspaceId,
    actor: &UserId,
    page: &PageId,
    cid: &ConnectionId,
) -> AppResult<()> {
    let (_, chain, conn_row) = checked(c, wsid, actor, page, cid)?;
    if !ws::chain_visible_to(&chain, &conn_row.installed_by) {
        return Err(AppError::invalid(
            "This page is private to you; a connection someone else added cannot see it.",
        ));
    }
    db::write_tx(c, |c| {
        let t = now();
        if connections::add_page(
            c,
            &ConnectionPage {
                connection_id: conn_row.id.clone(),
                page_id: page.clone(),
                added_by: actor.clone(),
                added_at: t,
            },
        )? {
            audit::record(
                c,
                &NewAuditEvent {
                    workspace_id: Some(wsid.clone()),
                    actor: Some(actor.to_string()),
                    action: "connection.page_added".into(),
                    target: conn_row.id.to_string(),
                    detail: format!("page {page}"),
                    at: t,
                },
            )?;
        }
        Ok(())
    })
}

pub fn remove(
    c: &mut Conn,
    wsid: &WorkspaceId,
    actor: &UserId,
    page: &PageId,
    cid: &ConnectionId,
) -> AppResult<()> {
    let (_, _, conn_row) = checked(c, wsid, actor, page, cid)?;
    db::write_tx(c, |c| {
        if connections::remove_page(c, &conn_row.id, page)? {
            audit::record(
                c,
                &NewAuditEvent {
                    workspace_id: Some(wsid.clone()),
                    actor: Some(actor.to_string()),
                    action: "connection.page_removed".into(),
                    target: conn_row.id.to_string(),
                    detail: format!("page {page}"),
                    at: now(),
                },
            )?;
        }
        Ok(())
    })
}

#[derive(Deserialize)]
pub struct MenuForm {
    csrf: Option<String>,
    connection_id: Option<String>,
}

async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: Option<web::Form<MenuForm>>,
    adding: bool,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let (ws_raw, page_raw) = path.into_inner();
    let wsid = parse_ws(&ws_raw)?;
    let page = PageId::parse(&page_raw).ok_or(HtmlError::NotFound)?;
    let cid = form
        .as_ref()
        .and_then(|f| f.connection_id.as_deref())
        .and_then(ConnectionId::parse)
        .ok_or(HtmlError::NotFound)?;
    let uid = user.user.id.clone();
    let (w, p) = (wsid.clone(), page.clone());
    db::run(&state.pool, move |c| {
        if adding {
            add(c, &w, &uid, &p, &cid)
        } else {
            remove(c, &w, &uid, &p, &cid)
        }
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/w/{wsid}/p/{page}")))
        .finish())
}

pub async fn view_page_connection_add_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: Option<web::Form<MenuForm>>,
) -> Result<HttpResponse, HtmlError> {
    act(req, state, user, path, form, true).await
}

pub async fn view_page_connection_remove_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: Option<web::Form<MenuForm>>,
) -> Result<HttpResponse, HtmlError> {
    act(req, state, user, path, form, false).await
}
