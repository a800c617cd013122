//! Settings & members → **Audit log** (owners): every grant, revoke,
//! disconnect and change in the workspace, newest first, 50 a page
//! (`?before=<id>`, an **Older** link).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, models::UserId};
use crate::domain::audit;
use crate::http::errors::HtmlError;
use crate::http::extract::Owner;
use crate::http::html;
use crate::http::layout::{self, format_time, Shell};
use crate::state::AppState;

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
    /// The link to the next, older page, when there is one.
    pub older: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    pub paged: bool,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    /// Show events older than this one (keyset pagination).
    before: Option<i32>,
}

pub async fn view_audit_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, HtmlError> {
    let before = q.into_inner().before;
    let view = db::run(&state.pool, move |c| {
        let mut rows = Vec::new();
        let (events, older) = audit::page_for_workspace(c, &m.workspace.id, before)?;
        for e in events {
            let who = match e.actor.as_deref().and_then(UserId::parse) {
                Some(id) => layout::user_name(c, &id)?,
                None => e.actor.clone().unwrap_or_else(|| "pagegrant".into()),
            };
            rows.push(AuditRow {
                when: format_time(e.at),
                who,
                action: e.action,
                detail: e.detail,
            });
        }
        let older = older.map(|id| format!("/w/{}/settings/audit?before={id}", m.workspace.id));
        Ok(AuditView {
            shell: layout::load(c, &m, None)?.shell,
            rows,
            older,
            paged: before.is_some(),
        })
    })
    .await?;
    Ok(html(view.render()?))
}
