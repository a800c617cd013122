//! Workspace pages: `/w/{workspace_id}` (home with the page tree and the
//! workspace switcher) and `/w/{workspace_id}/p/{page_id}` (a page with its
//! breadcrumbs and sub-pages). Who sees what is `service`'s business.

pub mod connections;
pub mod page_menu;
pub mod policy;
pub mod policy_pages;
pub mod service;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::models::{Page, PageId, Role, UserId, Workspace, WorkspaceId};
use crate::db::queries::{pages, users, workspaces};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::web::errors::HtmlError;
use crate::web::session::CurrentUser;
use crate::AppState;
use service::TreeRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/w/{workspace_id}", web::get().to(view_workspace_get))
        .route(
            "/w/{workspace_id}/p/{page_id}",
            web::get().to(view_page_get),
        )
        .route(
            "/w/{workspace_id}/settings/connections",
            web::get().to(connections::view_connections_get),
        )
        .route(
            "/w/{workspace_id}/settings/connections/{connection_id}/disconnect",
            web::get().to(connections::view_disconnect_get),
        )
        .route(
            "/w/{workspace_id}/settings/connections/{connection_id}/disconnect",
            web::post().to(connections::view_disconnect_post),
        )
        .route(
            "/w/{workspace_id}/settings/connections/{connection_id}/token",
            web::get().to(connections::view_token_get),
        )
        .route(
            "/w/{workspace_id}/settings/connections/{connection_id}/token",
            web::post().to(connections::view_token_post),
        )
        .route(
            "/w/{workspace_id}/settings/connections/{connection_id}/users",
            web::get().to(connections::view_users_get),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}/connections/add",
            web::post().to(page_menu::view_page_connection_add_post),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}/connections/remove",
            web::post().to(page_menu::view_page_connection_remove_post),
        )
        .route(
            "/w/{workspace_id}/settings/enterprise",
            web::post().to(policy_pages::view_enterprise_post),
        )
        .route(
            "/w/{workspace_id}/settings/enterprise/disconnect-all",
            web::get().to(policy_pages::view_disconnect_all_get),
        )
        .route(
            "/w/{workspace_id}/settings/connections/internal",
            web::post().to(connections::view_internal_post),
        )
        .route(
            "/w/{workspace_id}/settings/audit",
            web::get().to(connections::view_audit_get),
        );
}

pub struct SwitcherItem {
    pub id: String,
    pub name: String,
    pub initial: String,
    pub role: String,
    pub current: bool,
}

pub struct TreeItem {
    pub id: String,
    pub title: String,
    pub depth: usize,
    pub private: bool,
    pub current: bool,
}

/// What every workspace page shows around its content: sidebar and top bar.
pub struct Shell {
    pub user_name: String,
    pub user_email: String,
    pub csrf: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub workspace_initial: String,
    pub plan: String,
    pub role: String,
    pub switcher: Vec<SwitcherItem>,
    pub tree: Vec<TreeItem>,
}

pub struct Crumb {
    pub href: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "workspace/home.html")]
pub struct WorkspaceView {
    pub shell: Shell,
    pub top: Vec<TreeItem>,
    pub page_count: usize,
}

#[derive(Template)]
#[template(path = "workspace/page.html")]
pub struct PageView {
    pub shell: Shell,
    pub crumbs: Vec<Crumb>,
    pub title: String,
    pub private: bool,
    pub created_by: String,
    pub created_on: String,
    pub edited_on: String,
    pub children: Vec<TreeItem>,
    pub menu: page_menu::Menu,
    pub shell_page_id: String,
}

pub fn display_title(t: &str) -> String {
    if t.trim().is_empty() {
        "Untitled".into()
    } else {
        t.to_string()
    }
}

fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

pub fn format_date(unix: i64) -> String {
    let fmt = time::macros::format_description!("[month repr:short] [day padding:none], [year]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_default()
}

pub(crate) struct Loaded {
    pub(crate) workspace: Workspace,
    pub(crate) role: Role,
    switcher: Vec<(Workspace, String)>,
    tree: Vec<TreeRow>,
}

/// Everything the shell needs, after the membership check (404 otherwise).
pub(crate) fn load_shell_data(
    conn: &mut Conn,
    ws: &WorkspaceId,
    user: &UserId,
) -> AppResult<Loaded> {
    let (workspace, role) = service::role_in(conn, ws, user)?;
    let switcher = workspaces::for_user(conn, user)?;
    let tree = service::visible_tree(pages::in_workspace(conn, ws)?, user);
    Ok(Loaded {
        workspace,
        role,
        switcher,
        tree,
    })
}

fn tree_item(p: &Page, depth: usize, current: Option<&PageId>) -> TreeItem {
    TreeItem {
        id: p.id.to_string(),
        title: display_title(&p.title),
        depth: depth.min(8),
        private: p.visibility == "private",
        current: current == Some(&p.id),
    }
}

pub(crate) fn shell(user: &CurrentUser, l: &Loaded, current: Option<&PageId>) -> Shell {
    Shell {
        user_name: user.user.name.clone(),
        user_email: user.user.email.clone(),
        csrf: user.csrf().to_string(),
        workspace_id: l.workspace.id.to_string(),
        workspace_name: l.workspace.name.clone(),
        workspace_initial: initial(&l.workspace.name),
        plan: l.workspace.plan.clone(),
        role: l.role.as_str().to_string(),
        switcher: l
            .switcher
            .iter()
            .map(|(w, role)| SwitcherItem {
                id: w.id.to_string(),
                name: w.name.clone(),
                initial: initial(&w.name),
                role: role.clone(),
                current: w.id == l.workspace.id,
            })
            .collect(),
        tree: l
            .tree
            .iter()
            .map(|r| tree_item(&r.page, r.depth, current))
            .collect(),
    }
}

/// The shell data for pages outside one workspace (My integrations): the
/// preferred workspace if the user belongs to it, else their first, else none.
pub(crate) fn load_any_shell_data(
    conn: &mut Conn,
    user: &UserId,
    preferred: Option<&WorkspaceId>,
) -> AppResult<Option<Loaded>> {
    let mine = workspaces::for_user(conn, user)?;
    let pick = preferred
        .and_then(|p| mine.iter().find(|(w, _)| &w.id == p))
        .or(mine.first())
        .map(|(w, _)| w.id.clone());
    match pick {
        Some(ws) => Ok(Some(load_shell_data(conn, &ws, user)?)),
        None => Ok(None),
    }
}

/// `shell`, or a shell with no workspace (its template hides the workspace parts).
pub(crate) fn shell_or_bare(user: &CurrentUser, l: Option<&Loaded>) -> Shell {
    match l {
        Some(l) => shell(user, l, None),
        None => Shell {
            user_name: user.user.name.clone(),
            user_email: user.user.email.clone(),
            csrf: user.csrf().to_string(),
            workspace_id: String::new(),
            workspace_name: "No workspace".into(),
            workspace_initial: "?".into(),
            plan: String::new(),
            role: String::new(),
            switcher: Vec::new(),
            tree: Vec::new(),
        },
    }
}

pub(crate) fn parse_ws(raw: &str) -> Result<WorkspaceId, HtmlError> {
    WorkspaceId::parse(raw).ok_or(HtmlError::NotFound)
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

async fn view_workspace_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, HtmlError> {
    let ws = parse_ws(&path)?;
    let uid = user.user.id.clone();
    let loaded = db::run(&state.pool, move |c| load_shell_data(c, &ws, &uid)).await?;
    let top = loaded
        .tree
        .iter()
        .filter(|r| r.depth == 0)
        .map(|r| tree_item(&r.page, 0, None))
        .collect();
    let view = WorkspaceView {
        page_count: loaded.tree.len(),
        shell: shell(&user, &loaded, None),
        top,
    };
    Ok(html(view.render()?))
}

async fn view_page_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HtmlError> {
    let (ws_raw, page_raw) = path.into_inner();
    let ws = parse_ws(&ws_raw)?;
    let page_id = PageId::parse(&page_raw).ok_or(HtmlError::NotFound)?;
    let uid = user.user.id.clone();
    let pid = page_id.clone();
    let (loaded, chain, author, menu) = db::run(&state.pool, move |c| {
        let loaded = load_shell_data(c, &ws, &uid)?;
        let chain = pages::with_ancestors(c, &pid)?;
        let visible = match chain.first() {
            Some(p) => {
                p.workspace_id == ws && !p.in_trash && service::chain_visible_to(&chain, &uid)
            }
            None => false,
        };
        if !visible {
            return Err(AppError::NotFound);
        }
        let author = users::by_id(c, &chain[0].created_by)?
            .map(|u| u.name)
            .unwrap_or_else(|| "Unknown".into());
        let menu = page_menu::menu(c, &ws, &uid, loaded.role, &chain)?;
        Ok((loaded, chain, author, menu))
    })
    .await?;
    let page = &chain[0];
    let ws_id = loaded.workspace.id.to_string();
    let mut crumbs: Vec<Crumb> = vec![Crumb {
        href: format!("/w/{ws_id}"),
        title: loaded.workspace.name.clone(),
    }];
    crumbs.extend(chain.iter().rev().map(|p| Crumb {
        href: format!("/w/{ws_id}/p/{}", p.id),
        title: display_title(&p.title),
    }));
    // Sub-pages come from the visible tree, so trashed and others' private ones stay out.
    let children = loaded
        .tree
        .iter()
        .filter(|r| r.page.parent_id.as_ref() == Some(&page.id))
        .map(|r| tree_item(&r.page, 0, None))
        .collect();
    let view = PageView {
        shell: shell(&user, &loaded, Some(&page.id)),
        crumbs,
        title: display_title(&page.title),
        private: chain.iter().any(|p| p.visibility == "private"),
        created_by: author,
        created_on: format_date(page.created_at),
        edited_on: format_date(page.last_edited_at),
        children,
        menu,
        shell_page_id: page.id.to_string(),
    };
    Ok(html(view.render()?))
}
