//! `/requests/{id}` (issue 29 item 1): the page an agent's access request
//! links to. It says who asks (the connection, its client, "AI agent (MCP)"
//! when it asked through MCP), the reason as the agent's own words, and the
//! consent page's picker filtered by its search words, with **Share** and
//! **Decline**. Login-gated; who may answer, and what sharing does, are
//! `domain::access_requests`' rules (S99).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::{AccessRequestId, AccessRequestState, RequestVia};
use crate::domain::access_requests::{self, Answering};
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::{CurrentUser, Member};
use crate::http::form::CsrfForm;
use crate::http::layout::{self, Shell};
use crate::http::{html_with, once};
use crate::pages::picker::{rows, Picker, PickerAction};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "workspace/access_request.html")]
pub struct RequestView {
    pub shell: Shell,
    pub id: String,
    /// The client's name.
    pub name: String,
    /// It asked through MCP: an AI agent.
    pub agent: bool,
    /// Who made the connection, by name.
    pub installer: String,
    pub reason: String,
    pub search: String,
    pub asked: String,
    pub expires: String,
    /// Pending on a live connection: the picker and the buttons show.
    pub open: bool,
    /// What became of it, when it is no longer open.
    pub outcome: String,
    /// The answer shared pages (said in green, else amber).
    pub shared: bool,
    pub picker: Picker,
    pub flash: Option<String>,
}

#[derive(Deserialize)]
pub struct RequestPath {
    id: AccessRequestId,
}

/// The form as posted: the button pressed, and `page` once per ticked page.
#[derive(Deserialize)]
pub struct AnswerFields {
    answer: String,
    #[serde(default)]
    page: Vec<String>,
}

/// What became of a request, in a sentence.
fn outcome(a: &Answering) -> String {
    let by = a.answered_by.as_deref().unwrap_or("Someone");
    let name = &a.integration.name;
    match a.request.state {
        AccessRequestState::Shared => {
            let n = access_requests::shared_pages(&a.request).len();
            let pages = if n == 1 {
                "1 page".into()
            } else {
                format!("{n} pages")
            };
            format!("{by} shared {pages} with {name} in answer to this request.")
        }
        AccessRequestState::Declined => format!("{by} declined this request."),
        AccessRequestState::Expired => "This request expired before anyone answered it.".into(),
        AccessRequestState::Pending => {
            format!("{name} was disconnected; this request can no longer be answered.")
        }
    }
}

fn picker(a: &Answering) -> Picker {
    let button = |value, label: &str, primary| PickerAction {
        name: "answer",
        value,
        label: label.into(),
        primary,
        disabled: false,
    };
    Picker {
        rows: rows(&a.pages),
        who: a.integration.name.clone(),
        open: true,
        reconnecting: a.pages.iter().any(|(_, shared)| *shared),
        actions: vec![
            button("decline", "Decline", false),
            button("share", "Share", true),
        ],
        query: a.request.search.clone(),
        list: None,
    }
}

fn view(
    c: &mut db::Conn,
    u: CurrentUser,
    id: &AccessRequestId,
    flash: Option<String>,
) -> AppResult<RequestView> {
    let a = access_requests::for_answer(c, &u.user.id, id)?;
    let m = Member {
        user: u,
        workspace: a.workspace.clone(),
        role: a.role,
    };
    Ok(RequestView {
        shell: layout::load(c, &m, None)?.shell,
        id: id.to_string(),
        name: a.integration.name.clone(),
        agent: a.request.via == RequestVia::Mcp,
        installer: a.installer.clone(),
        reason: a.request.reason.clone(),
        search: a.request.search.clone(),
        asked: layout::format_time(a.request.created_at),
        expires: layout::format_time(a.request.expires_at),
        open: a.open(),
        outcome: outcome(&a),
        shared: a.request.state == AccessRequestState::Shared,
        picker: picker(&a),
        flash,
    })
}

/// The answer is said once, by a one-time note for this page.
pub async fn view_request_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    u: CurrentUser,
    path: web::Path<RequestPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let (sbox, secure) = (&state.secret_box, state.config.issuer_is_https());
    let at = format!("/requests/{id}");
    let (note, gone) =
        once::take_note_at(&req, &state.pool, sbox, &u.session, secure, &at, None).await?;
    let flash = note.map(|n| n.name);
    let view = db::run(&state.pool, move |c| view(c, u, &id, flash)).await?;
    Ok(html_with(view.render()?, gone)?)
}

pub async fn view_request_post(
    state: web::Data<AppState>,
    form: CsrfForm<AnswerFields>,
    u: CurrentUser,
    path: web::Path<RequestPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let f = form.into_inner();
    let (st, uid, session) = (state.clone(), u.user.id.clone(), u.session.clone());
    let answered = db::run(&state.pool, move |c| {
        access_requests::answer(c, &st.secret_box, &uid, &id, &f.answer, &f.page)
    })
    .await?;
    let at = format!("/requests/{}", answered.id);
    let note = once::Note {
        event: answered.state.as_str().into(),
        name: answered.sentence(),
        ..once::Note::default()
    };
    let secure = state.config.issuer_is_https();
    Ok(once::see_other_noting(
        &state.secret_box,
        &session,
        secure,
        at.clone(),
        note,
        &at,
    ))
}
