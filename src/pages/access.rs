//! Settings → Connections → **Edit access** on an internal integration's
//! row (Notion's "Edit access"): the consent page's picker over the pages
//! the connection reaches. Owners edit any internal connection, members the
//! ones they installed (the integration's developer); the rules and audit
//! are `domain::connections::set_access`'s.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::ConnectionId;
use crate::domain::connections::{self, ByMember};
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, TwoStepGuard};
use crate::http::form::CsrfForm;
use crate::http::layout::{self, Shell};
use crate::http::{html_with, once};
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

/// Who edits: the member, their role and workspace.
fn by(m: &Member) -> ByMember<'_> {
    ByMember {
        workspace: &m.workspace,
        user: &m.user.user.id,
        role: m.role,
    }
}

/// The page for connection `id`, as `m` may edit it.
fn access_view(
    c: &mut crate::db::Conn,
    m: &Member,
    id: &ConnectionId,
    saved: bool,
) -> AppResult<AccessView> {
    let plan = connections::access_plan(c, &by(m), id)?;
    let name = plan.integration.name.clone();
    Ok(AccessView {
        shell: layout::load(c, m, None)?.shell,
        connection_id: id.to_string(),
        flash: saved.then(|| format!("Saved the pages {name} can reach")),
        picker: access_picker(&plan),
        name,
    })
}

/// **Save access** is said once, by a one-time note sealed for this
/// workspace's pages (a reload says nothing again).
pub async fn view_access_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<AccessPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().connection_id;
    let (sbox, secure) = (&state.secret_box, state.config.issuer_is_https());
    let at = format!("/w/{}", m.workspace.id);
    let (note, gone) =
        once::take_note_at(&req, &state.pool, sbox, &m.user.session, secure, &at, None).await?;
    let saved = note.is_some_and(|n| n.event == "access_saved");
    let view = db::run(&state.pool, move |c| access_view(c, &m, &id, saved)).await?;
    Ok(html_with(view.render()?, gone)?)
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
    let (ws, session) = (m.workspace.id.clone(), m.user.session.clone());
    let back = format!("/w/{ws}/settings/connections/{id}/access");
    db::run(&state.pool, move |c| {
        connections::set_access(c, &st.secret_box, &by(&m), &id, &ticked)
    })
    .await?;
    let note = once::Note {
        event: "access_saved".into(),
        ..once::Note::default()
    };
    let secure = state.config.issuer_is_https();
    let at = format!("/w/{ws}");
    Ok(once::see_other_noting(
        &state.secret_box,
        &session,
        secure,
        back,
        note,
        &at,
    ))
}
