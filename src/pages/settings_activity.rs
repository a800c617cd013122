//! Settings → a connection's ••• → **Activity** (owners for every
//! connection, members for their own, S105): the pages it read, counted per
//! page, tool or route and hour, and each page it created or changed,
//! newest first; filtered by **Show** (reads, writes) and **Through** (MCP,
//! `/v1`, or one tool or route); 50 a page (`?before=`, an **Older** link);
//! **Export CSV** of what the filter shows. The rules are
//! `domain::activity`'s.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{ActivityKind, ActivityOp, ActivitySurface, ConnectionId};
use crate::db::{self, Conn};
use crate::domain::activity::{self, Ask, Entry};
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::Member;
use crate::http::html;
use crate::http::layout::{self, format_time, Shell};
use crate::state::AppState;

pub struct ActivityRow {
    /// "2026-12-07 09:00 UTC"; a read row's is the start of its hour.
    pub when: String,
    pub iso: String,
    pub read: bool,
    /// "Read 12 times in this hour", "Created the page", "Changed the page".
    pub what: String,
    pub detail: String,
    pub page: String,
    /// A link to the page, when the viewer may open it.
    pub page_href: Option<String>,
    /// The MCP tool or `/v1` route.
    pub via: &'static str,
}

#[derive(Template)]
#[template(path = "workspace/connection_activity.html")]
pub struct ActivityView {
    pub shell: Shell,
    pub connection_id: String,
    pub name: String,
    pub installer: String,
    pub days: i64,
    pub rows: Vec<ActivityRow>,
    pub older: Option<String>,
    pub paged: bool,
    pub q: ActivityQuery,
    /// The filter as a query string, for the export and the pager.
    pub filter_qs: String,
    /// **Through**'s choices: (value, label).
    pub vias: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize, Default, Clone)]
pub struct ActivityQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub via: String,
    pub before: Option<String>,
}

impl ActivityQuery {
    fn ask(&self) -> Ask {
        Ask {
            kind: self.kind.clone(),
            via: self.via.clone(),
            before: self.before.clone(),
        }
    }

    fn query_string(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("kind", &self.kind)
            .append_pair("via", &self.via)
            .finish()
    }
}

#[derive(Deserialize)]
pub struct ActivityPath {
    connection_id: ConnectionId,
}

fn vias() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        (ActivitySurface::Mcp.as_str(), "MCP (every tool)"),
        (ActivitySurface::Api.as_str(), "/v1 (every route)"),
    ];
    out.extend(ActivityOp::ALL.iter().map(|o| (o.as_str(), o.label())));
    out
}

fn row(ws: &str, e: Entry) -> ActivityRow {
    let a = &e.row;
    let what = match (a.kind, a.op) {
        (ActivityKind::Read, _) if a.count == 1 => "Read once in this hour".to_string(),
        (ActivityKind::Read, _) => format!("Read {} times in this hour", a.count),
        (_, ActivityOp::McpCreatePage | ActivityOp::ApiPostPage) => "Created the page".into(),
        _ => "Changed the page".into(),
    };
    ActivityRow {
        when: format_time(a.at),
        iso: layout::format_iso(a.at),
        read: a.kind == ActivityKind::Read,
        what,
        detail: a.detail.clone(),
        page_href: e.page_visible.then(|| format!("/w/{ws}/p/{}", a.page_id)),
        page: e.page_title,
        via: a.op.label(),
    }
}

pub async fn view_activity_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<ActivityPath>,
    q: web::Query<ActivityQuery>,
) -> Result<HttpResponse, HtmlError> {
    let (id, q) = (path.into_inner().connection_id, q.into_inner());
    let days = state.config.agents.activity_days;
    let view = db::run(&state.pool, move |c| build(c, &m, &id, q, days)).await?;
    Ok(html(view.render()?))
}

fn build(
    c: &mut Conn,
    m: &Member,
    id: &ConnectionId,
    q: ActivityQuery,
    days: i64,
) -> AppResult<ActivityView> {
    let (ws, viewer) = (&m.workspace.id, &m.user.user.id);
    let listing = activity::list(c, ws, viewer, m.role, id, &q.ask())?;
    let filter_qs = q.query_string();
    let base = format!("/w/{ws}/settings/connections/{id}/activity");
    Ok(ActivityView {
        shell: layout::load(c, m, None)?.shell,
        connection_id: id.to_string(),
        name: listing.integration,
        installer: layout::user_name(c, &listing.installer)?,
        days,
        rows: listing
            .entries
            .into_iter()
            .map(|e| row(ws.as_str(), e))
            .collect(),
        older: listing
            .older
            .map(|b| format!("{base}?{filter_qs}&before={b}")),
        paged: q.before.as_deref().is_some_and(|b| !b.is_empty()),
        q,
        filter_qs,
        vias: vias(),
    })
}

/// **Export CSV**: the filtered activity as a file (at most
/// `activity::EXPORT_LIMIT` rows, newest first).
pub async fn get_activity_csv(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<ActivityPath>,
    q: web::Query<ActivityQuery>,
) -> Result<HttpResponse, HtmlError> {
    let (id, ask) = (path.into_inner().connection_id, q.into_inner().ask());
    let name = format!("activity-{id}.csv");
    let body = db::run(&state.pool, move |c| {
        let (ws, viewer) = (&m.workspace.id, &m.user.user.id);
        activity::export(c, ws, viewer, m.role, &id, &ask, format_time)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}
