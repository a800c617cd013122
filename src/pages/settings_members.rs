//! Settings & members → **Members** (owners only): everyone in the
//! workspace with their role (one select per row that saves on change) and
//! join date, **Add members** (an existing user joins; an address without
//! an account gets an invitation whose link is shown here once), the
//! pending invitations with **Revoke**, and **Remove from workspace**
//! behind a confirmation page. The rules (the last owner stays; removal
//! ends the person's connections; invitations) live in
//! `crate::domain::members` and `crate::domain::invitations`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::db::models::{InvitationId, Role, UserId};
use crate::db::{self, Conn};
use crate::domain::accounts;
use crate::domain::audit::Actor;
use crate::domain::invitations::{self, Mailed};
use crate::domain::members::{self, Added};
use crate::error::{AppError, AppResult};
use crate::http::errors::HtmlError;
use crate::http::extract::{Member, Owner, Sudo};
use crate::http::form::{CsrfForm, NoFields};
use crate::http::layout::{self, format_date, format_time, initial, Shell};
use crate::http::once;
use crate::http::{html, see_other};
use crate::state::AppState;

pub struct MemberRowView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub initial: String,
    pub owner: bool,
    /// The only owner: the role cannot change, and the row says why.
    pub last_owner: bool,
    pub joined_on: String,
    pub is_you: bool,
}

/// A pending invitation in the list.
pub struct InvitationRowView {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub invited_by: String,
    pub expires_on: String,
    pub expires_at: String,
}

/// What the page shows once after **Add members** invited someone: the
/// link (sealed in a one-time note, never in the address) and the e-mail's
/// fate.
#[derive(Serialize, Deserialize)]
pub struct InviteNote {
    email: String,
    link: String,
    renewed: bool,
    /// "off", "sent", or why it failed.
    mailed: String,
    sent: bool,
}

/// What the members page says once after an action, sealed in a one-time
/// note for this page (Post/Redirect/Get; a reload says nothing again).
/// People are named by id, never by text carried in the address.
#[derive(Serialize, Deserialize)]
pub enum MembersNote {
    Invited(InviteNote),
    Added(UserId),
    Changed(UserId),
    Removed(UserId),
    Revoked,
}

/// The new invitation as the page shows it.
pub struct InvitedView {
    pub email: String,
    pub link: String,
    pub message: String,
    /// The e-mail failed: said as an alert.
    pub warn: bool,
}

impl InvitedView {
    fn of(n: InviteNote) -> InvitedView {
        let again = if n.renewed {
            " The earlier link no longer works."
        } else {
            ""
        };
        let (message, warn) = match (n.sent, n.mailed.as_str()) {
            (true, _) => (
                format!("Invited {}: the invitation was e-mailed to them. You can also copy the link below.{again}", n.email),
                false,
            ),
            (false, "off") => (
                format!("Invited {}. Copy the link below and send it to them: it works once.{again}", n.email),
                false,
            ),
            (false, why) => (
                format!("Invited {}, but the e-mail could not be sent ({why}). Copy the link below and send it yourself.{again}", n.email),
                true,
            ),
        };
        InvitedView {
            email: n.email,
            link: n.link,
            message,
            warn,
        }
    }
}

#[derive(Template)]
#[template(path = "workspace/settings_members.html")]
pub struct MembersView {
    pub shell: Shell,
    /// The settings tabs (shared with Connections): owners only here.
    pub is_owner: bool,
    pub tab: &'static str,
    pub rows: Vec<MemberRowView>,
    pub invitations: Vec<InvitationRowView>,
    /// The invitation just made, once.
    pub invited: Option<InvitedView>,
    /// Whether invitations go out by e-mail (`smtp.host` set).
    pub smtp: bool,
    pub flash: Option<String>,
    /// A refused role change or removal, above the list.
    pub error: Option<String>,
    /// **Add members**: what was typed, and why it was refused.
    pub email: String,
    pub add_as_owner: bool,
    pub email_error: Option<String>,
}

fn rows(c: &mut Conn, m: &Member) -> AppResult<Vec<MemberRowView>> {
    let list = members::list(c, &m.workspace)?;
    let owners = list.iter().filter(|r| r.role == Role::Owner).count();
    Ok(list
        .into_iter()
        .map(|r| MemberRowView {
            user_id: r.user.id.to_string(),
            initial: initial(&r.user.name),
            owner: r.role == Role::Owner,
            last_owner: r.role == Role::Owner && owners <= 1,
            joined_on: format_date(r.joined_at),
            is_you: r.user.id == m.user.user.id,
            name: r.user.name,
            email: r.user.email,
        })
        .collect())
}

fn invitation_rows(c: &mut Conn, m: &Member) -> AppResult<Vec<InvitationRowView>> {
    Ok(invitations::pending(c, &m.workspace.id)?
        .into_iter()
        .map(|p| InvitationRowView {
            id: p.invitation.id.to_string(),
            role: match p.invitation.role {
                Role::Owner => "Owner",
                Role::Member => "Member",
            },
            expires_on: format_date(p.invitation.expires_at),
            expires_at: format_time(p.invitation.expires_at),
            email: p.invitation.email,
            invited_by: p.invited_by,
        })
        .collect())
}

/// The flash after an action, naming the person by id.
fn flash(c: &mut Conn, m: &Member, note: Option<&MembersNote>) -> AppResult<Option<String>> {
    let ws = &m.workspace.name;
    Ok(match note {
        Some(MembersNote::Added(id)) => {
            Some(format!("Added {} to {ws}", accounts::name_of(c, id)?))
        }
        Some(MembersNote::Changed(id)) => match members::member(c, &m.workspace, id) {
            Ok((u, role)) => Some(format!("{} is now {} of {ws}", u.name, article(role))),
            Err(_) => None,
        },
        Some(MembersNote::Removed(id)) => Some(format!(
            "Removed {} from {ws}; their connections here have ended",
            accounts::name_of(c, id)?
        )),
        Some(MembersNote::Revoked) => {
            Some("Revoked the invitation; its link no longer works".into())
        }
        Some(MembersNote::Invited(_)) | None => None,
    })
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
    note: Option<MembersNote>,
    refused: Refused,
) -> Result<String, HtmlError> {
    let smtp = state.config.smtp.enabled();
    let view = db::run(&state.pool, move |c| {
        Ok(MembersView {
            is_owner: true,
            tab: "members",
            rows: rows(c, &m)?,
            invitations: invitation_rows(c, &m)?,
            flash: flash(c, &m, note.as_ref())?,
            invited: match note {
                Some(MembersNote::Invited(n)) => Some(InvitedView::of(n)),
                _ => None,
            },
            smtp,
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
    fn none() -> Refused {
        Refused {
            error: None,
            email: String::new(),
            add_as_owner: false,
            email_error: None,
        }
    }

    /// **Add members** refused: what was typed, and why next to the email.
    fn add(email: &str, role: Role, why: String) -> Refused {
        Refused {
            error: None,
            email: email.trim().to_string(),
            add_as_owner: role == Role::Owner,
            email_error: Some(why),
        }
    }
}

/// Where the members page is, and so where its one-time note is sent.
fn members_path(m: &Member) -> String {
    format!("/w/{}/settings/members", m.workspace.id)
}

/// A 303 to the members page (at `anchor`) carrying `note`; without the
/// cookie (it could not be sealed) the page simply says nothing.
fn noting(state: &AppState, m: &Member, note: MembersNote, anchor: &str) -> HttpResponse {
    let path = members_path(m);
    let secure = state.config.issuer_is_https();
    let mut resp = see_other(format!("{path}{anchor}"));
    if let Some(c) = once::seal_at(&state.secret_box, &m.user.session, secure, &path, &note) {
        // A cookie built here always encodes into a header value.
        let _ = resp.add_cookie(&c);
    }
    resp
}

fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub async fn view_members_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    Owner(m): Owner,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    let (pool, sbox, session) = (&state.pool, &state.secret_box, &m.user.session);
    let (note, gone) =
        once::take_at::<MembersNote>(&req, pool, sbox, session, secure, &members_path(&m)).await?;
    let body = render(&state, m, note, Refused::none()).await?;
    let mut resp = html(body);
    if let Some(c) = gone {
        resp.add_cookie(&c)
            .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
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

/// The redirect after **Add members** invited someone, with the link in
/// a one-time note for the members page.
fn invited_redirect(state: &AppState, m: &Member, added: Added) -> HttpResponse {
    let Added::Invited {
        email,
        link,
        renewed,
        mailed,
    } = added
    else {
        return see_other(members_path(m));
    };
    let (sent, mailed) = match mailed {
        Mailed::Sent => (true, "sent".to_string()),
        Mailed::Off => (false, "off".to_string()),
        Mailed::Failed(why) => (false, why),
    };
    let note = InviteNote {
        email,
        link,
        renewed,
        mailed,
        sent,
    };
    noting(state, m, MembersNote::Invited(note), "#invited")
}

/// **Add members**: an existing user joins; an address without an account
/// gets an invitation (e-mailed when SMTP is set). A refusal is shown next
/// to the email field with what was typed.
pub async fn view_members_post(
    state: web::Data<AppState>,
    form: CsrfForm<AddFields>,
    Owner(m): Owner,
) -> Result<HttpResponse, HtmlError> {
    let f = form.into_inner();
    let role = parse_role(&f.role)?;
    let (ws, by) = (m.workspace.clone(), m.user.user.clone());
    let added =
        members::add_or_invite(&state.pool, &state.config, ws, by, f.email.clone(), role).await;
    match added {
        Ok(Added::Member(u)) => Ok(noting(&state, &m, MembersNote::Added(u.id), "")),
        Ok(invited) => Ok(invited_redirect(&state, &m, invited)),
        Err(e) => {
            let (status, msg) = HtmlError::from(e).refusal()?;
            let refused = Refused::add(&f.email, role, msg);
            let body = render(&state, m, None, refused).await?;
            Ok(page(status, body))
        }
    }
}

#[derive(Deserialize)]
pub struct InvitationPath {
    invitation_id: InvitationId,
}

/// **Revoke** a pending invitation: its link stops working at once.
pub async fn view_revoke_invitation_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Owner(m): Owner,
    path: web::Path<InvitationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().invitation_id;
    let (ws, by) = (m.workspace.clone(), m.user.user.id.clone());
    let done = db::run(&state.pool, move |c| {
        Ok(invitations::revoke(c, &ws, &by, &id))
    })
    .await?;
    match done {
        Ok(_) => Ok(noting(&state, &m, MembersNote::Revoked, "")),
        Err(AppError::NotFound) => Err(HtmlError::NotFound),
        Err(e) => refused_on_list(&state, m, e).await,
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
    let refused = Refused {
        error: Some(msg),
        ..Refused::none()
    };
    let body = render(state, m, None, refused).await?;
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
        Ok((u, _)) => Ok(noting(&state, &m, MembersNote::Changed(u.id), "")),
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
    _sudo: Sudo,
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
    _sudo: Sudo,
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
        Ok(r) => Ok(noting(&state, &m, MembersNote::Removed(r.user.id), "")),
        Err(AppError::NotFound) => Err(HtmlError::NotFound),
        Err(e) => refused_on_list(&state, m, e).await,
    }
}
