//! Settings & members → **Members** (owners only): everyone in the
//! workspace with their role and join date, **Add member** (an existing
//! user, by email), changing a role, and **Remove from workspace** behind a
//! confirmation page. The rules (the last owner stays; removal ends the
//! person's connections) live in `crate::domain::members`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{Role, UserId};
use crate::db::{self, Conn};
use crate::domain::accounts;
use crate::domain::audit::Actor;
use crate::domain::members;
use crate::error::{AppError, AppResult};
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, Owner};
use crate::http::form::{CsrfForm, NoFields};
use crate::http::layout::{self, format_date, initial, Shell};
use crate::http::{html, see_other};
use crate::state::AppState;

pub struct MemberRowView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub initial: String,
    pub owner: bool,
    pub joined_on: String,
    pub is_you: bool,
}

#[derive(Template)]
#[template(path = "workspace/settings_members.html")]
pub struct MembersView {
    pub shell: Shell,
    /// The settings tabs (shared with Connections): owners only here.
    pub is_owner: bool,
    pub tab: &'static str,
    pub rows: Vec<MemberRowView>,
    pub flash: Option<String>,
    /// A refused role change or removal, above the list.
    pub error: Option<String>,
    /// **Add member**: what was typed, and why it was refused.
    pub email: String,
    pub add_as_owner: bool,
    pub email_error: Option<String>,
}

#[derive(Deserialize)]
pub struct MembersQuery {
    added: Option<UserId>,
    changed: Option<UserId>,
    removed: Option<UserId>,
}

fn rows(c: &mut Conn, m: &Member) -> AppResult<Vec<MemberRowView>> {
    Ok(members::list(c, &m.workspace)?
        .into_iter()
        .map(|r| MemberRowView {
            user_id: r.user.id.to_string(),
            initial: initial(&r.user.name),
            owner: r.role == Role::Owner,
            joined_on: format_date(r.joined_at),
            is_you: r.user.id == m.user.user.id,
            name: r.user.name,
            email: r.user.email,
        })
        .collect())
}

/// The flash after an action, naming the person by id (never by text
/// echoed from the address bar).
fn flash(c: &mut Conn, m: &Member, q: &MembersQuery) -> AppResult<Option<String>> {
    let ws = &m.workspace.name;
    if let Some(id) = &q.added {
        return Ok(Some(format!("Added {} to {ws}", accounts::name_of(c, id)?)));
    }
    if let Some(id) = &q.changed {
        return Ok(match members::member(c, &m.workspace, id) {
            Ok((u, role)) => Some(format!("{} is now {} of {ws}", u.name, article(role))),
            Err(_) => None,
        });
    }
    if let Some(id) = &q.removed {
        return Ok(Some(format!(
            "Removed {} from {ws}; their connections here have ended",
            accounts::name_of(c, id)?
        )));
    }
    Ok(None)
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner",
        Role::Member => "a member",
    }
}

/// Everything the page needs besides the form state.
struct Refused {
    error: Option<String>,
    email: String,
    add_as_owner: bool,
    email_error: Option<String>,
}

async fn render(
    state: &AppState,
    m: Member,
    q: MembersQuery,
    refused: Refused,
) -> Result<String, HtmlError> {
    let view = db::run(&state.pool, move |c| {
        Ok(MembersView {
            is_owner: true,
            tab: "members",
            rows: rows(c, &m)?,
            flash: flash(c, &m, &q)?,
            error: refused.error,
            email: refused.email,
            add_as_owner: refused.add_as_owner,
            email_error: refused.email_error,
            shell: layout::load(c, &m, None)?.shell,
        })
    })
    .await?;
    Ok(view.render()?)
}

impl Refused {
    /// **Add member** refused: what was typed, and why next to the email.
    fn add(email: &str, role: Role, why: String) -> Refused {
        Refused {
            error: None,
            email: email.trim().to_string(),
            add_as_owner: role == Role::Owner,
            email_error: Some(why),
        }
    }
}

fn no_query() -> MembersQuery {
    MembersQuery {
        added: None,
        changed: None,
        removed: None,
    }
}

fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub async fn view_members_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
    q: web::Query<MembersQuery>,
) -> Result<HttpResponse, HtmlError> {
    let body = render(
        &state,
        m,
        q.into_inner(),
        Refused {
            error: None,
            email: String::new(),
            add_as_owner: false,
            email_error: None,
        },
    )
    .await?;
    Ok(html(body))
}

fn parse_role(s: &str) -> Result<Role, HtmlError> {
    Role::parse(s.trim()).ok_or_else(|| HtmlError::BadRequest("Choose Owner or Member.".into()))
}

#[derive(Deserialize)]
pub struct AddFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// **Add member**: an existing user by email; a refusal is shown next to
/// the email field with what was typed.
pub async fn view_members_post(
    state: web::Data<AppState>,
    form: CsrfForm<AddFields>,
    Owner(m): Owner,
) -> Result<HttpResponse, HtmlError> {
    let f = form.into_inner();
    let role = parse_role(&f.role)?;
    let (ws, actor) = (m.workspace.clone(), m.user.user.id.clone());
    let email = f.email.clone();
    let added = db::run(&state.pool, move |c| {
        Ok(members::add(c, &ws, Actor::User(&actor), &email, role))
    })
    .await?;
    match added {
        Ok(u) => Ok(see_other(format!(
            "/w/{}/settings/members?added={}",
            m.workspace.id, u.id
        ))),
        Err(e) => {
            let (status, msg) = HtmlError::from(e).refusal()?;
            let body = render(&state, m, no_query(), Refused::add(&f.email, role, msg)).await?;
            Ok(page(status, body))
        }
    }
}

#[derive(Deserialize)]
pub struct MemberPath {
    user_id: UserId,
}

#[derive(Deserialize)]
pub struct RoleFields {
    #[serde(default)]
    role: String,
}

/// A refusal from the domain shown above the list (the last owner).
async fn refused_on_list(
    state: &AppState,
    m: Member,
    e: AppError,
) -> Result<HttpResponse, HtmlError> {
    let (status, msg) = HtmlError::from(e).refusal()?;
    let body = render(
        state,
        m,
        no_query(),
        Refused {
            error: Some(msg),
            email: String::new(),
            add_as_owner: false,
            email_error: None,
        },
    )
    .await?;
    Ok(page(status, body))
}

pub async fn view_role_post(
    state: web::Data<AppState>,
    form: CsrfForm<RoleFields>,
    Owner(m): Owner,
    path: web::Path<MemberPath>,
) -> Result<HttpResponse, HtmlError> {
    let role = parse_role(&form.into_inner().role)?;
    let user = path.into_inner().user_id;
    let (ws, actor) = (m.workspace.clone(), m.user.user.id.clone());
    let done = db::run(&state.pool, move |c| {
        Ok(members::set_role(c, &ws, Actor::User(&actor), &user, role))
    })
    .await?;
    match done {
        Ok((u, _)) => Ok(see_other(format!(
            "/w/{}/settings/members?changed={}",
            m.workspace.id, u.id
        ))),
        Err(AppError::NotFound) => Err(HtmlError::NotFound),
        Err(e) => refused_on_list(&state, m, e).await,
    }
}

#[derive(Template)]
#[template(path = "workspace/confirm_remove_member.html")]
pub struct ConfirmRemoveView {
    pub shell: Shell,
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub is_you: bool,
    /// The connections that will end, by integration name.
    pub connections: Vec<String>,
    /// Why this person cannot be removed (the last owner).
    pub refused: Option<String>,
}

pub async fn view_remove_get(
    state: web::Data<AppState>,
    Owner(m): Owner,
    path: web::Path<MemberPath>,
) -> Result<HttpResponse, HtmlError> {
    let user = path.into_inner().user_id;
    let view = db::run(&state.pool, move |c| {
        let plan = members::plan_removal(c, &m.workspace, &user)?;
        let u = plan.user;
        Ok(ConfirmRemoveView {
            shell: layout::load(c, &m, None)?.shell,
            user_id: u.id.to_string(),
            is_you: u.id == m.user.user.id,
            name: u.name,
            email: u.email,
            connections: plan.connections,
            refused: plan.refused,
        })
    })
    .await?;
    Ok(html(view.render()?))
}

pub async fn view_remove_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Owner(m): Owner,
    path: web::Path<MemberPath>,
) -> Result<HttpResponse, HtmlError> {
    let user = path.into_inner().user_id;
    let (ws, actor) = (m.workspace.clone(), m.user.user.id.clone());
    let done = db::run(&state.pool, move |c| {
        Ok(members::remove(
            c,
            &ws,
            Actor::User(&actor),
            Some(&actor),
            &user,
        ))
    })
    .await?;
    match done {
        // Someone who removed themselves no longer sees this workspace.
        Ok(r) if r.user.id == m.user.user.id => Ok(see_other("/")),
        Ok(r) => Ok(see_other(format!(
            "/w/{}/settings/members?removed={}",
            m.workspace.id, r.user.id
        ))),
        Err(AppError::NotFound) => Err(HtmlError::NotFound),
        Err(e) => refused_on_list(&state, m, e).await,
    }
}
