//! Settings & members → **Audit log** (owners): every grant, revoke,
//! disconnect and change in the workspace, newest first.

use actix_web::{web, HttpResponse};
use askama::Template;

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
}

pub async fn view_audit_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
) -> Result<HttpResponse, HtmlError> {
    let view = db::run(&state.pool, move |c| {
        let mut rows = Vec::new();
        for e in audit::for_workspace(c, &m.workspace.id)? {
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
        Ok(AuditView {
            shell: layout::load(c, &m, None)?.shell,
            rows,
        })
    })
    .await?;
    Ok(html(view.render()?))
}
