//! The page **•••** menu: **Add connections** (connections of this workspace
//! the person may manage: owners all, members their own) and the connections
//! that reach the page — shared with it directly, each with **Disconnect**,
//! or through an ancestor, shown as "via ‹ancestor›".

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{ConnectionId, Page, PageId};
use crate::db::Conn;
use crate::domain::connections::{self, ByMember, OnPage, PageChange};
use crate::domain::workspaces;
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, TwoStepGuard};
use crate::http::form::CsrfForm;
use crate::http::layout::{self, display_title, Shell};
use crate::http::{html, once};
use crate::state::AppState;

/// A connection in the menu.
pub struct MenuItem {
    pub connection_id: String,
    pub name: String,
    pub added_by: String,
    /// `Some((id, title))`: it reaches the page through that ancestor.
    pub via: Option<(String, String)>,
    pub can_manage: bool,
    /// "Unverified developer" (issue 27 item 1).
    pub unverified: bool,
    /// Another connection in the same list has this name: its Disconnect
    /// link's accessible name adds who added it.
    pub same_name: bool,
}

pub struct Menu {
    pub reaching: Vec<MenuItem>,
    pub addable: Vec<MenuItem>,
}

fn item(o: OnPage) -> MenuItem {
    MenuItem {
        connection_id: o.connection.id.to_string(),
        name: o.name,
        added_by: o.installer,
        via: o.via.map(|p| (p.id.to_string(), display_title(&p.title))),
        can_manage: o.can_manage,
        unverified: o.unverified,
        same_name: false,
    }
}

/// Marks the items whose name another item shares.
fn mark_same_names(mut items: Vec<MenuItem>) -> Vec<MenuItem> {
    let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
    for i in items.iter_mut() {
        i.same_name = names.iter().filter(|n| **n == i.name).count() > 1;
    }
    items
}

/// What the menu shows for `chain` (the page first, then its ancestors).
pub fn menu(c: &mut Conn, m: &Member, chain: &[Page]) -> AppResult<Menu> {
    let found = connections::on_page(c, &m.workspace.id, &m.user.user.id, m.role, chain)?;
    Ok(Menu {
        reaching: mark_same_names(found.reaching.into_iter().map(item).collect()),
        addable: found.addable.into_iter().map(item).collect(),
    })
}

#[derive(Deserialize)]
pub struct PagePath {
    page_id: PageId,
}

#[derive(Deserialize)]
pub struct MenuFields {
    connection_id: Option<String>,
}

#[derive(Template)]
#[template(path = "workspace/confirm_page_connection.html")]
pub struct ConfirmView {
    pub shell: Shell,
    pub adding: bool,
    pub page_id: String,
    pub page_title: String,
    pub connection_id: String,
    pub name: String,
    /// What will happen, in a sentence.
    pub reach: String,
}

/// "Product and its 2 sub-pages".
pub fn page_and_subpages(title: &str, carried: usize) -> String {
    match carried {
        0 => title.to_string(),
        1 => format!("{title} and its sub-page"),
        n => format!("{title} and its {n} sub-pages"),
    }
}

#[derive(Deserialize)]
pub struct ConfirmQuery {
    connection_id: Option<ConnectionId>,
}

/// The confirmation before a page-level change: what the connection will
/// (no longer) see. Nothing changes until its button is pressed.
async fn confirm(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<PagePath>,
    q: web::Query<ConfirmQuery>,
    change: PageChange,
) -> Result<HttpResponse, HtmlError> {
    let page = path.into_inner().page_id;
    let id = q.into_inner().connection_id.ok_or(HtmlError::NotFound)?;
    let view = crate::db::run(&state.pool, move |c| {
        ConfirmView::build(c, &m, &page, &id, change)
    })
    .await?;
    Ok(html(view.render()?))
}

impl ConfirmView {
    /// What sharing `page` with connection `id`, or unsharing it, will do.
    fn build(
        c: &mut Conn,
        m: &Member,
        page: &PageId,
        id: &ConnectionId,
        change: PageChange,
    ) -> AppResult<ConfirmView> {
        let seen = workspaces::page_for(c, &m.workspace.id, &m.user.user.id, page)?;
        let (connection, integration) =
            connections::manageable(c, &m.workspace.id, &m.user.user.id, m.role, id)?;
        let l = layout::load(c, m, Some(page))?;
        let title = display_title(&seen.chain[0].title);
        let what = page_and_subpages(&title, workspaces::carried_with(&l.tree, page));
        let reach = match change {
            PageChange::Share => format!("{} will see {what}.", integration.name),
            PageChange::Unshare => format!(
                "{} will no longer see {what}; the connection stays.",
                integration.name
            ),
        };
        Ok(ConfirmView {
            shell: l.shell,
            adding: change == PageChange::Share,
            page_id: page.to_string(),
            page_title: title,
            connection_id: connection.id.to_string(),
            name: integration.name,
            reach,
        })
    }
}

pub async fn view_page_connection_add_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<PagePath>,
    q: web::Query<ConfirmQuery>,
) -> Result<HttpResponse, HtmlError> {
    confirm(state, m, path, q, PageChange::Share).await
}

pub async fn view_page_connection_remove_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<PagePath>,
    q: web::Query<ConfirmQuery>,
) -> Result<HttpResponse, HtmlError> {
    confirm(state, m, path, q, PageChange::Unshare).await
}

async fn change(
    state: web::Data<AppState>,
    form: CsrfForm<MenuFields>,
    m: Member,
    path: web::Path<PagePath>,
    change: PageChange,
) -> Result<HttpResponse, HtmlError> {
    let page = path.into_inner().page_id;
    let id = form
        .into_inner()
        .connection_id
        .as_deref()
        .and_then(ConnectionId::parse)
        .ok_or(HtmlError::NotFound)?;
    let back = format!("/w/{}/p/{page}", m.workspace.id);
    let at = format!("/w/{}", m.workspace.id);
    let session = m.user.session.clone();
    let st = state.clone();
    let cid = id.to_string();
    let changed = crate::db::run(&state.pool, move |c| {
        connections::change_page(c, &st.secret_box, &id, &page, Some(&by(&m)), change)
    })
    .await?;
    let note = once::Note {
        event: done(change, changed.token_replaced).into(),
        about: Some(cid),
        ..once::Note::default()
    };
    let secure = state.config.issuer_is_https();
    Ok(once::see_other_noting(
        &state.secret_box,
        &session,
        secure,
        back,
        note,
        &at,
    ))
}

/// The member acting, as `connections::change_page` checks them.
fn by(m: &Member) -> ByMember<'_> {
    ByMember {
        workspace: &m.workspace,
        user: &m.user.user.id,
        role: m.role,
    }
}

/// What the page's one-time note says was done.
fn done(change: PageChange, token_replaced: bool) -> &'static str {
    match (change, token_replaced) {
        (PageChange::Share, true) => "page_added_token_replaced",
        (PageChange::Share, false) => "page_added",
        (PageChange::Unshare, _) => "page_removed",
    }
}

pub async fn view_page_connection_add_post(
    state: web::Data<AppState>,
    form: CsrfForm<MenuFields>,
    m: Member,
    _two_step: TwoStepGuard,
    path: web::Path<PagePath>,
) -> Result<HttpResponse, HtmlError> {
    change(state, form, m, path, PageChange::Share).await
}

pub async fn view_page_connection_remove_post(
    state: web::Data<AppState>,
    form: CsrfForm<MenuFields>,
    m: Member,
    _two_step: TwoStepGuard,
    path: web::Path<PagePath>,
) -> Result<HttpResponse, HtmlError> {
    change(state, form, m, path, PageChange::Unshare).await
}
