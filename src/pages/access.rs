//! Settings → Connections → **Edit access** on an internal integration's
//! row (Notion's "Edit access"): the consent page's picker over the pages
//! the connection reaches. Owners edit any internal connection, members the
//! ones they installed (the integration's developer); the rules and audit
//! are `domain::connections::set_access`'s.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::ConnectionId;
use crate::domain::connections::{self, ByMember};
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, TwoStepGuard};
use crate::http::form::CsrfForm;
use crate::http::layout::{self, Shell};
use crate::http::{html, see_other};
use crate::pages::picker::{access_picker, Picker};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "workspace/access.html")]
pub struct AccessView {
    pub shell: Shell,
    pub connection_id: String,
    pub name: String,
    pub picker: Picker,
    pub flash: Option<String>,
}

#[derive(Deserialize)]
pub struct AccessPath {
    connection_id: ConnectionId,
}

/// The picker as posted: `page` once per ticked page.
#[derive(Deserialize)]
pub struct AccessFields {
    #[serde(default)]
    page: Vec<String>,
}

/// `?saved=1` after **Save access** (Settings' notes are query strings;
/// the one-time-note cookie is sent only to `/developers`).
#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

pub async fn view_access_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<AccessPath>,
    q: web::Query<Saved>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let saved = q.saved.is_some();
    let view = db::run(&state.pool, move |c| {
        let by = ByMember {
            workspace: &m.workspace,
            user: &m.user.user.id,
            role: m.role,
        };
        let plan = connections::access_plan(c, &by, &id)?;
        let name = plan.integration.name.clone();
        Ok(AccessView {
            shell: layout::load(c, &m, None)?.shell,
            connection_id: id.to_string(),
            flash: saved.then(|| format!("Saved the pages {name} can reach")),
            picker: access_picker(&plan),
            name,
        })
    })
    .await?;
    Ok(html(view.render()?))
}

pub async fn view_access_post(
    state: web::Data<AppState>,
    form: CsrfForm<AccessFields>,
    m: Member,
    _two_step: TwoStepGuard,
    path: web::Path<AccessPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let (ticked, st) = (form.into_inner().page, state.clone());
    let back = format!(
        "/w/{}/settings/connections/{id}/access?saved=1",
        m.workspace.id
    );
    db::run(&state.pool, move |c| {
        let by = ByMember {
            workspace: &m.workspace,
            user: &m.user.user.id,
            role: m.role,
        };
        connections::set_access(c, &st.secret_box, &by, &id, &ticked)
    })
    .await?;
    Ok(see_other(back))
}
