//! Settings & members → **Connections** (owners: every connection of the
//! workspace) and **My connections** (everyone: the ones they added), each
//! row with its ••• menu: **Disconnect** behind a confirmation step, **Copy
//! internal integration token**, **View users with access**, for owners on a
//! client that registered itself **Block this client** (S67, behind a
//! confirmation; **Unblock** in the blocked list); and **+ Add connection**. Roles are the extractors' business, the rules `domain`'s.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{ClientType, ConnectionId, IntegrationId, UserId};
use crate::db::{self, Conn};
use crate::domain::connections::{GroupQuery, GroupSort, TokenUse};
use crate::domain::{connections, integrations};
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, Owner, Sudo, TwoStepGuard};
use crate::http::form::{CsrfForm, NoFields};
use crate::http::layout::{self, display_title, format_date, initial, Shell};
use crate::http::{html, once};
use crate::pages::settings_enterprise::{self, EnterpriseView};
use crate::state::AppState;

pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub initial: String,
    pub internal: bool,
    /// Registered itself (RFC 7591): the "Registered itself" badge, and
    /// **Block this client** for owners.
    pub dynamic: bool,
    /// A CIMD client: the host that serves its metadata document.
    pub cimd_host: Option<String>,
    /// A public integration nobody vouches for: "Unverified developer".
    pub unverified: bool,
    pub integration_id: String,
    pub added_by: String,
    pub added_on: String,
    pub website: Option<String>,
    pub support_email: Option<String>,
    pub can_manage: bool,
    /// Why this viewer may not copy the internal integration's token.
    pub token_withheld: Option<String>,
    /// How many pages it reaches.
    pub pages: i64,
    /// An MCP agent: it has called `/mcp`.
    pub agent: Option<Agent>,
}

/// What Settings says of a connection that is an MCP agent.
pub struct Agent {
    /// Where the client says it is from (its metadata document's host, or
    /// its website's), when it says.
    pub host: Option<String>,
    pub last_used: String,
}

/// The host a client names itself by: a Client ID Metadata Document's URL,
/// else its `client_uri`, else its website.
fn client_host(i: &crate::db::models::Integration) -> Option<String> {
    let from = |u: &str| {
        url::Url::parse(u)
            .ok()
            .filter(|u| u.scheme() == "https")
            .and_then(|u| u.host_str().map(str::to_string))
    };
    from(&i.client_id)
        .or_else(|| i.client_uri.as_deref().and_then(from))
        .or_else(|| i.website_url.as_deref().and_then(from))
}

/// One public integration in **+ Add connection**: a link that starts the
/// consent flow with this workspace pre-selected, or why it cannot be added.
pub struct AddOption {
    pub name: String,
    pub icon: String,
    pub developer: String,
    /// Built by pagegrant (a first-party integration).
    pub first_party: bool,
    /// Nobody vouches for it ("Unverified developer"); listed because this
    /// workspace installed or approved it.
    pub unverified: bool,
    pub href: Option<String>,
    pub note: Option<String>,
}

/// An integration in Settings → Connections with its connections here:
/// one row, its connections inside (shown when expanded, or at once when
/// it has one).
pub struct GroupRow {
    pub integration_id: String,
    pub name: String,
    pub initial: String,
    pub internal: bool,
    pub dynamic: bool,
    /// "Unverified developer" (issue 27 item 1).
    pub unverified: bool,
    pub cimd_host: Option<String>,
    pub last_used: String,
    pub connections: Vec<ConnectionRow>,
}

/// Paging past `connections::GROUPS_PER_PAGE` integrations.
pub struct Pager {
    pub from: usize,
    pub to: usize,
    pub total: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "workspace/settings_connections.html")]
pub struct ConnectionsView {
    pub shell: Shell,
    pub is_owner: bool,
    /// "all" (Connections) or "mine" (My connections).
    pub tab: &'static str,
    /// One per integration, this page of them.
    pub groups: Vec<GroupRow>,
    /// Whether any connection is listed (on any page).
    pub any: bool,
    /// **Sort by**: (label, link, current).
    pub sorts: Vec<(&'static str, String, bool)>,
    /// "Showing 51–100 of 130" and the Previous/Next links, past one page.
    pub pager: Option<Pager>,
    pub flash: Option<String>,
    /// What the Enterprise block just saved, said inside that block.
    pub enterprise_flash: Option<String>,
    pub enterprise: Option<EnterpriseView>,
    /// What **+ Add connection** offers here.
    pub add: Vec<AddOption>,
    /// Clients that registered themselves and an owner blocked here
    /// (integration id, name), on the owners' Connections tab.
    pub blocked: Vec<(String, String)>,
    /// Pending requests for pages this person may answer (issue 29).
    pub requests: Vec<RequestRow>,
}

/// A pending access request, linking to its page.
pub struct RequestRow {
    pub id: String,
    pub name: String,
    pub reason: String,
    pub agent: bool,
    pub asked: String,
}

fn request_row(w: crate::domain::access_requests::Waiting) -> RequestRow {
    RequestRow {
        id: w.id.to_string(),
        name: w.name,
        reason: w.reason,
        agent: w.agent,
        asked: layout::format_time(w.created_at),
    }
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    tab: Option<String>,
    /// Filter by user, in the approved list.
    user: Option<String>,
    /// `name`, `used` or `connected` (connections::GroupSort).
    sort: Option<String>,
    /// From 1; anything not a number is the first.
    page: Option<String>,
}

/// Where this workspace's one-time notes live (`once::seal_at`).
pub fn note_path(ws: &crate::db::models::WorkspaceId) -> String {
    format!("/w/{ws}")
}

/// A 303 to Settings → Connections (`anchor` on the address) carrying a
/// one-time note of what was done.
fn back_noting(state: &AppState, m: &Member, note: once::Note, anchor: &str) -> HttpResponse {
    let ws = &m.workspace.id;
    once::see_other_noting(
        &state.secret_box,
        &m.user.session,
        state.config.issuer_is_https(),
        format!("/w/{ws}/settings/connections{anchor}"),
        note,
        &note_path(ws),
    )
}

/// A note naming what it concerned.
fn noted(event: &str, name: String) -> once::Note {
    once::Note {
        event: event.into(),
        name,
        ..once::Note::default()
    }
}

/// Each public integration, as **+ Add connection** offers it here. Public
/// clients need a PKCE challenge only their own site can make, so those are
/// sent to the developer's website instead.
fn add_options(c: &mut Conn, m: &Member) -> AppResult<Vec<AddOption>> {
    let offers = integrations::catalogue(c, &m.workspace, m.role)?;
    Ok(offers
        .into_iter()
        .map(|o| {
            let i = o.integration;
            let (href, note) = match (o.blocked, i.client_type) {
                (Some(_), _) => (
                    None,
                    Some("Not on this workspace's approved list".to_string()),
                ),
                (None, ClientType::Public) => match i.website_url.clone() {
                    Some(w) => (Some(w), Some("Connect from the developer's website".into())),
                    None => (None, Some("Connect from the developer's app".into())),
                },
                (None, ClientType::Confidential) => {
                    let q = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("client_id", &i.client_id)
                        .append_pair("response_type", "code")
                        .append_pair("owner", "user")
                        .append_pair("redirect_uri", &o.redirect_uri)
                        .append_pair("workspace_id", m.workspace.id.as_str())
                        .finish();
                    (Some(format!("/v1/oauth/authorize?{q}")), None)
                }
            };
            AddOption {
                icon: i
                    .icon
                    .clone()
                    .filter(|x| !x.is_empty())
                    .unwrap_or_else(|| initial(&i.name)),
                developer: i.developer_name.clone(),
                first_party: i.first_party,
                unverified: o.unverified,
                name: i.name,
                href,
                note,
            }
        })
        .collect())
}

/// The flashes after an action, from its one-time note: the page's, and
/// the Enterprise block's (shown in that block, which the redirect
/// scrolls to).
fn flashes(
    c: &mut Conn,
    m: &Member,
    note: Option<&once::Note>,
) -> AppResult<(Option<String>, Option<String>)> {
    let Some(n) = note else {
        return Ok((None, None));
    };
    let name = &n.name;
    Ok(match n.event.as_str() {
        "disconnected" => (Some(format!("Disconnected {name}")), None),
        "created" => (
            Some(format!(
                "Created {name}. Copy its token from its ••• menu: Copy internal integration token."
            )),
            None,
        ),
        "blocked" => (Some(format!("Blocked {name}")), None),
        "unblocked" => (Some(format!("Unblocked {name}")), None),
        event if m.is_owner() => {
            let about = match n.about.as_deref().and_then(IntegrationId::parse) {
                Some(id) => integrations::name_in(c, &m.workspace.id, &id)?,
                None => None,
            };
            (None, settings_enterprise::flash(Some(event), about))
        }
        _ => (None, None),
    })
}

fn row(l: connections::Listed) -> ConnectionRow {
    ConnectionRow {
        agent: l.mcp_last_used.map(|at| Agent {
            host: client_host(&l.integration),
            last_used: layout::format_time(at),
        }),
        id: l.connection.id.to_string(),
        initial: initial(&l.integration.name),
        internal: l.integration.kind == crate::db::models::IntegrationKind::Internal,
        dynamic: l.integration.dynamic,
        unverified: integrations::unverified(&l.integration),
        cimd_host: l
            .integration
            .cimd_expires_at
            .map(|_| l.integration.developer_name.clone()),
        integration_id: l.integration.id.to_string(),
        added_by: l.installer,
        added_on: format_date(l.connection.created_at),
        website: l.integration.website_url,
        support_email: l.integration.support_email,
        can_manage: l.can_manage,
        token_withheld: l.token_withheld,
        pages: l.pages,
        name: l.integration.name,
    }
}

fn group_row(g: connections::Group) -> GroupRow {
    let i = &g.integration;
    GroupRow {
        integration_id: i.id.to_string(),
        name: i.name.clone(),
        initial: initial(&i.name),
        internal: i.kind == crate::db::models::IntegrationKind::Internal,
        dynamic: i.dynamic,
        unverified: integrations::unverified(i),
        cimd_host: i.cimd_expires_at.map(|_| i.developer_name.clone()),
        last_used: format_date(g.last_used),
        connections: g.connections.into_iter().map(row).collect(),
    }
}

/// This list's address with another sort or page, keeping the tab and
/// the user filter.
fn list_href(m: &Member, tab: &str, user: Option<&UserId>, sort: GroupSort, page: usize) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if tab == "mine" {
        q.append_pair("tab", "mine");
    }
    if let Some(u) = user {
        q.append_pair("user", u.as_str());
    }
    q.append_pair("sort", sort.as_str());
    if page > 1 {
        q.append_pair("page", &page.to_string());
    }
    format!("/w/{}/settings/connections?{}", m.workspace.id, q.finish())
}

fn pager(g: &connections::Grouped, href: impl Fn(usize) -> String) -> Option<Pager> {
    (g.pages > 1).then(|| Pager {
        from: (g.page - 1) * connections::GROUPS_PER_PAGE + 1,
        to: ((g.page - 1) * connections::GROUPS_PER_PAGE + g.groups.len()),
        total: g.total,
        previous: (g.page > 1).then(|| href(g.page - 1)),
        next: (g.page < g.pages).then(|| href(g.page + 1)),
    })
}

pub async fn view_connections_get(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    m: Member,
    q: web::Query<SettingsQuery>,
) -> Result<HttpResponse, HtmlError> {
    let q = q.into_inner();
    let secure = state.config.issuer_is_https();
    let path = note_path(&m.workspace.id);
    let (sbox, session) = (&state.secret_box, &m.user.session);
    let (note, removal) =
        once::take_note_at(&req, &state.pool, sbox, session, secure, &path, None).await?;
    let view = db::run(&state.pool, move |c| {
        ConnectionsView::build(c, &m, &q, note)
    })
    .await?;
    let mut resp = html(view.render()?);
    if let Some(c) = removal {
        // A cookie built here always encodes into a header value.
        let _ = resp.add_cookie(&c);
    }
    Ok(resp)
}

impl ConnectionsView {
    /// The tab `q` asks for (members have My connections only), narrowed to
    /// the user it names.
    fn build(
        c: &mut Conn,
        m: &Member,
        q: &SettingsQuery,
        note: Option<once::Note>,
    ) -> AppResult<ConnectionsView> {
        let tab = match (q.tab.as_deref(), m.is_owner()) {
            (Some("mine"), _) | (_, false) => "mine",
            _ => "all",
        };
        let filter = q.user.as_deref().and_then(UserId::parse);
        let enterprise = match tab {
            "all" => settings_enterprise::block(c, m, filter.clone())?,
            _ => None,
        };
        // Filter by user narrows the whole list, not only the approved table.
        let installer = filter.as_ref().filter(|_| enterprise.is_some());
        let sort = GroupSort::parse(q.sort.as_deref());
        let query = GroupQuery {
            mine: tab == "mine",
            installer,
            sort,
            page: q.page.as_deref().and_then(|p| p.parse().ok()).unwrap_or(1),
        };
        let grouped = connections::grouped(c, &m.workspace.id, &m.user.user.id, m.role, &query)?;
        let href = |s: GroupSort, page: usize| list_href(m, tab, installer, s, page);
        let sorts = GroupSort::ALL
            .into_iter()
            .map(|s| (s.label(), href(s, 1), s == sort))
            .collect();
        let pager = pager(&grouped, |p| href(sort, p));
        let (flash, enterprise_flash) = flashes(c, m, note.as_ref())?;
        let blocked = match tab {
            "all" if m.is_owner() => connections::blocked_in(c, &m.workspace.id)?
                .into_iter()
                .map(|i| (i.id.to_string(), i.name))
                .collect(),
            _ => Vec::new(),
        };
        let requests = crate::domain::access_requests::waiting(
            c,
            &m.workspace.id,
            &m.user.user.id,
            m.role,
            tab == "mine",
        )?
        .into_iter()
        .map(request_row)
        .collect();
        Ok(ConnectionsView {
            requests,
            blocked,
            is_owner: m.is_owner(),
            tab,
            any: grouped.total > 0,
            groups: grouped.groups.into_iter().map(group_row).collect(),
            sorts,
            pager,
            flash,
            enterprise_flash,
            enterprise,
            add: add_options(c, m)?,
            shell: layout::load(c, m, None)?.shell,
        })
    }
}

#[derive(Deserialize)]
pub struct ConnectionPath {
    connection_id: ConnectionId,
}

#[derive(Template)]
#[template(path = "workspace/confirm_disconnect.html")]
pub struct ConfirmView {
    pub shell: Shell,
    pub connection_id: String,
    pub name: String,
    pub added_by: String,
}

pub async fn view_disconnect_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<ConnectionPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let view = db::run(&state.pool, move |c| {
        let (connection, integration) =
            connections::manageable(c, &m.workspace.id, &m.user.user.id, m.role, &id)?;
        Ok(ConfirmView {
            shell: layout::load(c, &m, None)?.shell,
            connection_id: connection.id.to_string(),
            name: integration.name,
            added_by: layout::user_name(c, &connection.installed_by)?,
        })
    })
    .await?;
    Ok(html(view.render()?))
}

pub async fn view_disconnect_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    m: Member,
    _two_step: TwoStepGuard,
    path: web::Path<ConnectionPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let (ws, uid, role) = (m.workspace.id.clone(), m.user.user.id.clone(), m.role);
    let name = db::run(&state.pool, move |c| {
        connections::disconnect(c, &ws, &uid, role, &id)
    })
    .await?;
    Ok(back_noting(&state, &m, noted("disconnected", name), ""))
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

pub async fn view_token_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
    _sudo: Sudo,
    path: web::Path<ConnectionPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let view = db::run(&state.pool, move |c| {
        let (_, integration) =
            connections::manageable(c, &m.workspace.id, &m.user.user.id, m.role, &id)?;
        Ok(TokenView {
            shell: layout::load(c, &m, None)?.shell,
            connection_id: id.to_string(),
            name: integration.name,
            token: None,
        })
    })
    .await?;
    Ok(html(view.render()?))
}

/// The one-press copy asks for JSON; a plain form post gets the page.
fn wants_json(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

pub async fn view_token_post(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Owner(m): Owner,
    _sudo: Sudo,
    _two_step: TwoStepGuard,
    path: web::Path<ConnectionPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let json = wants_json(&req);
    // The one-press Copy asks for JSON; the page shows the token.
    let how = [TokenUse::Revealed, TokenUse::Copied][usize::from(json)];
    let st = state.clone();
    let view = db::run(&state.pool, move |c| {
        let (ws, uid) = (&m.workspace.id, &m.user.user.id);
        let (name, token) =
            connections::retrieve_token(c, &st.secret_box, ws, uid, m.role, &id, how)?;
        let shell = layout::load(c, &m, None)?.shell;
        Ok(TokenView::shown(shell, &id, name, token))
    })
    .await?;
    if json {
        return Ok(HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "name": view.name, "token": view.token })));
    }
    Ok(html(view.render()?))
}

impl TokenView {
    fn shown(shell: Shell, id: &ConnectionId, name: String, token: String) -> TokenView {
        TokenView {
            shell,
            connection_id: id.to_string(),
            name,
            token: Some(token),
        }
    }
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

pub async fn view_users_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<ConnectionPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let view = db::run(&state.pool, move |c| {
        let (name, access) =
            connections::users_with_access(c, &m.workspace.id, &m.user.user.id, m.role, &id)?;
        Ok(UsersView {
            shell: layout::load(c, &m, None)?.shell,
            name,
            rows: access
                .into_iter()
                .map(|a| AccessRow {
                    name: a.installer,
                    added_on: format_date(a.added_at),
                    pages: a.pages.iter().map(|t| display_title(t)).collect(),
                })
                .collect(),
        })
    })
    .await?;
    Ok(html(view.render()?))
}

#[derive(Deserialize)]
pub struct InternalFields {
    #[serde(default)]
    name: String,
}

pub async fn view_internal_post(
    state: web::Data<AppState>,
    form: CsrfForm<InternalFields>,
    m: Member,
    _two_step: TwoStepGuard,
) -> Result<HttpResponse, HtmlError> {
    let (ws, role, uid) = (m.workspace.clone(), m.role, m.user.user.id.clone());
    let st = state.clone();
    let made = db::run(&state.pool, move |c| {
        connections::create_internal(c, &st.secret_box, &ws, role, &uid, &form.0.name)
    })
    .await?;
    let note = noted("created", made.integration.name);
    Ok(back_noting(&state, &m, note, ""))
}

#[derive(Deserialize)]
pub struct ClientPath {
    integration_id: IntegrationId,
}

#[derive(Template)]
#[template(path = "workspace/confirm_block.html")]
pub struct BlockView {
    pub shell: Shell,
    pub integration_id: String,
    pub name: String,
    /// Its active connections here, which blocking ends.
    pub connections: usize,
}

/// **Block this client**: what it does, then the POST (owners).
pub async fn view_block_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
    _sudo: Sudo,
    path: web::Path<ClientPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().integration_id;
    let view = db::run(&state.pool, move |c| {
        let integration = connections::blockable(c, &m.workspace.id, &id)?;
        let connections = connections::list(c, &m.workspace.id, &m.user.user.id, m.role, false)?
            .iter()
            .filter(|l| l.integration.id == id)
            .count();
        Ok(BlockView {
            shell: layout::load(c, &m, None)?.shell,
            integration_id: id.to_string(),
            name: integration.name,
            connections,
        })
    })
    .await?;
    Ok(html(view.render()?))
}

pub async fn view_block_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Owner(m): Owner,
    _sudo: Sudo,
    _two_step: TwoStepGuard,
    path: web::Path<ClientPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().integration_id;
    let (ws, uid) = (m.workspace.id.clone(), m.user.user.id.clone());
    let name = db::run(&state.pool, move |c| {
        connections::block_client(c, &ws, &uid, &id)
    })
    .await?;
    Ok(back_noting(&state, &m, noted("blocked", name), ""))
}

pub async fn view_unblock_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Owner(m): Owner,
    _two_step: TwoStepGuard,
    path: web::Path<ClientPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().integration_id;
    let (ws, uid) = (m.workspace.id.clone(), m.user.user.id.clone());
    let name = db::run(&state.pool, move |c| {
        connections::unblock_client(c, &ws, &uid, &id)
    })
    .await?;
    Ok(back_noting(&state, &m, noted("unblocked", name), ""))
}
