//! Settings & members → **Audit log** (owners): every grant, revoke,
//! disconnect and change in the workspace, newest first, in sentences with
//! names; filtered by who, what and when; 50 a page (`?before=<id>`, an
//! **Older** link); **Export CSV** of what the filter shows.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{AuditEvent, UserId};
use crate::db::{self, Conn};
use crate::domain::{audit, members};
use crate::error::{AppError, AppResult};
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, Owner};
use crate::http::html;
use crate::http::layout::{self, format_time, Shell};
use crate::state::AppState;

pub struct AuditRow {
    /// "2026-12-07 09:30 UTC": shown without JavaScript and on hover.
    pub when: String,
    /// RFC 3339 in UTC, for `<time datetime>`; app.js shows it in the
    /// viewer's local time.
    pub iso: String,
    pub who: String,
    pub sentence: String,
    /// The stored action, for those who grep exports.
    pub action: String,
}

#[derive(Template)]
#[template(path = "workspace/settings_audit.html")]
pub struct AuditView {
    pub shell: Shell,
    pub is_owner: bool,
    pub tab: &'static str,
    pub rows: Vec<AuditRow>,
    /// The link to the next, older page, when there is one.
    pub older: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    pub paged: bool,
    /// The filter's choices and what is chosen.
    pub people: Vec<(String, String)>,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub q: AuditQuery,
    /// The query string of the filter, for the export and the pager.
    pub filter_qs: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    /// Show events older than this one (keyset pagination).
    pub before: Option<i32>,
    /// A member's user id.
    #[serde(default)]
    pub who: String,
    /// A kind of event (`audit::KINDS`).
    #[serde(default)]
    pub kind: String,
    /// Dates, `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

fn day_start(raw: &str, what: &str) -> AppResult<Option<i64>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.trim(), &fmt)
        .map(|d| Some(d.midnight().assume_utc().unix_timestamp()))
        .map_err(|_| AppError::invalid(format!("The {what} date is written like 2026-12-02.")))
}

impl AuditQuery {
    fn filter(&self) -> AppResult<audit::Filter> {
        Ok(audit::Filter {
            actor: UserId::parse(&self.who).map(|u| u.to_string()),
            actions: audit::actions_of(&self.kind),
            from: day_start(&self.from, "From")?,
            // "To" includes its whole day.
            until: day_start(&self.to, "To")?.map(|t| t + 86_400),
        })
    }

    fn query_string(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("who", &self.who)
            .append_pair("kind", &self.kind)
            .append_pair("from", &self.from)
            .append_pair("to", &self.to)
            .finish()
    }
}

/// Who did it, by name: a person, a client acting on its own, or pagegrant.
fn row(c: &mut Conn, e: AuditEvent) -> AppResult<AuditRow> {
    let name = audit::actor_name(c, &e)?;
    Ok(AuditRow {
        when: format_time(e.at),
        iso: layout::format_iso(e.at),
        sentence: audit::sentence(c, &e, &name)?,
        who: name,
        action: e.action,
    })
}

pub async fn view_audit_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, HtmlError> {
    let q = q.into_inner();
    let view = db::run(&state.pool, move |c| audit_view(c, m, q)).await?;
    Ok(html(view.render()?))
}

fn audit_view(c: &mut Conn, m: Member, q: AuditQuery) -> AppResult<AuditView> {
    let filter = q.filter()?;
    let (events, older) = audit::page_for_workspace(c, &m.workspace.id, q.before, &filter)?;
    let rows = events
        .into_iter()
        .map(|e| row(c, e))
        .collect::<AppResult<Vec<_>>>()?;
    let filter_qs = q.query_string();
    let people = members::list(c, &m.workspace)?
        .into_iter()
        .map(|r| (r.user.id.to_string(), r.user.name))
        .collect();
    Ok(AuditView {
        older: older.map(|id| {
            format!(
                "/w/{}/settings/audit?before={id}&{filter_qs}",
                m.workspace.id
            )
        }),
        paged: q.before.is_some(),
        shell: layout::load(c, &m, None)?.shell,
        is_owner: true,
        tab: "audit",
        rows,
        people,
        kinds: audit::KINDS
            .iter()
            .map(|(k, label, _)| (*k, *label))
            .collect(),
        q,
        filter_qs,
    })
}

/// **Export CSV**: the filtered log as a file (at most `audit::EXPORT_LIMIT`
/// events), one line per event with the sentence a person reads.
pub async fn get_audit_csv(
    state: web::Data<AppState>,
    Owner(m): Owner,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, HtmlError> {
    let q = q.into_inner();
    let ws = m.workspace.id.clone();
    let body = db::run(&state.pool, move |c| {
        let events = audit::export(c, &m.workspace.id, &q.filter()?)?;
        audit::to_csv(c, events, format_time)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"audit-{ws}.csv\""),
        ))
        .body(body))
}
