//! My account (issue 28): **Sessions** (your devices: end one or all
//! others, change the password) and **Confirm it's you**, the page every
//! sensitive action sends a person to when their last proof of identity is
//! older than `security.reauth_s` (`extract::Sudo`). Passkeys and two-step
//! verification are tabs of the same page, in their own modules.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::PasskeyPurpose;
use crate::domain::passkeys::{self, ProofAnswer};
use crate::domain::sessions::{self, Device, PasswordChange, Proof, Proofs};
use crate::error::AppError;
use crate::http::errors::{HtmlError, JsonError};
use crate::http::extract::CurrentUser;
use crate::http::form::{CsrfForm, CsrfJson, NoFields};
use crate::http::layout::{self, format_iso, format_time, Shell};
use crate::http::once::{self, Note};
use crate::http::session::safe_next;
use crate::http::{html, see_other};
use crate::state::AppState;

const SESSIONS: &str = "/account/sessions";

/// A session row as the table shows it.
pub struct DeviceRow {
    pub handle: String,
    pub browser: String,
    pub os: String,
    pub address: String,
    pub created_on: String,
    pub created_iso: String,
    pub seen_on: String,
    pub seen_iso: String,
    pub this: bool,
}

impl From<Device> for DeviceRow {
    fn from(d: Device) -> Self {
        DeviceRow {
            handle: d.handle,
            browser: d.browser,
            os: d.os,
            address: d.address,
            created_on: format_time(d.created_at),
            created_iso: format_iso(d.created_at),
            seen_on: format_time(d.last_seen_at),
            seen_iso: format_iso(d.last_seen_at),
            this: d.this,
        }
    }
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
pub struct SessionsView {
    pub shell: Shell,
    pub tab: &'static str,
    pub devices: Vec<DeviceRow>,
    pub flash: Option<String>,
    /// Why **Change password** was refused.
    pub error: Option<String>,
}

/// `/account`: the first tab.
pub async fn view_account_get(_user: CurrentUser) -> HttpResponse {
    see_other(SESSIONS)
}

async fn sessions_page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<String>,
    error: Option<String>,
) -> Result<String, HtmlError> {
    let u = user.clone();
    let (shell, devices) = db::run(&state.pool, move |c| {
        let shell = layout::load_any(c, &u, None)?;
        Ok((shell, sessions::list(c, &u.user.id, &u.session.id_hash)?))
    })
    .await?;
    let devices = devices.into_iter().map(DeviceRow::from).collect();
    let view = SessionsView {
        shell,
        tab: "sessions",
        devices,
        flash,
        error,
    };
    Ok(view.render()?)
}

/// What a note on Sessions says.
fn flash_of(n: Note) -> Option<String> {
    match n.event.as_str() {
        "ended" => Some(format!("Ended the session of {}.", n.name)),
        "ended_others" => Some(format!("Ended {} other sessions.", n.name)),
        "password" => Some(format!("Changed your password. {}", n.name)),
        _ => None,
    }
}

pub async fn view_sessions_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    let (note, removal) = once::take_at::<Note>(
        &req,
        &state.pool,
        &state.secret_box,
        &user.session,
        secure,
        SESSIONS,
    )
    .await?;
    let mut resp = html(sessions_page(&state, &user, note.and_then(flash_of), None).await?);
    if let Some(c) = removal {
        resp.add_cookie(&c)
            .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
}

/// Back to Sessions with a one-time note.
fn noting(state: &AppState, user: &CurrentUser, event: &str, name: String) -> HttpResponse {
    let note = Note {
        event: event.into(),
        name,
        ..Note::default()
    };
    let secure = state.config.issuer_is_https();
    once::see_other_noting(
        &state.secret_box,
        &user.session,
        secure,
        SESSIONS.into(),
        note,
        SESSIONS,
    )
}

#[derive(Deserialize)]
pub struct SessionPath {
    handle: String,
}

/// **End** on one other session.
pub async fn view_session_end_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    user: CurrentUser,
    path: web::Path<SessionPath>,
) -> Result<HttpResponse, HtmlError> {
    let handle = path.into_inner().handle;
    let (uid, current) = (user.user.id.clone(), user.session.id_hash.clone());
    let what = db::run(&state.pool, move |c| {
        sessions::end(c, &uid, &current, &handle)
    })
    .await?;
    Ok(noting(&state, &user, "ended", what))
}

/// **End all other sessions**.
pub async fn view_end_others_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let (uid, current) = (user.user.id.clone(), user.session.id_hash.clone());
    let n = db::run(&state.pool, move |c| {
        sessions::end_other_sessions(c, &uid, &current)
    })
    .await?;
    Ok(noting(&state, &user, "ended_others", n.to_string()))
}

#[derive(Deserialize)]
pub struct PasswordFields {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    end_others: Option<String>,
}

impl PasswordFields {
    fn change(self, req: &HttpRequest) -> PasswordChange {
        PasswordChange {
            current: self.current,
            new: self.new,
            ip: crate::http::peer_ip(req),
            end_others: self.end_others.is_some(),
        }
    }
}

/// What the note says after a change.
fn changed_note(end_others: bool) -> String {
    match end_others {
        true => "Your other sessions have ended.".into(),
        false => "Your other sessions stay signed in.".into(),
    }
}

/// **Change password**: the current one (behind the login throttle) and a
/// new one; **End all other sessions** comes ticked.
pub async fn view_password_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CsrfForm<PasswordFields>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let change = form.into_inner().change(&req);
    let ended = change.end_others;
    let (sec, hash) = (&state.config.security, user.session.id_hash.as_str());
    let (pool, pw) = (&state.pool, &state.passwords);
    let why = match sessions::change_password(pool, pw, sec, &user.user, hash, change).await {
        Ok(true) => return Ok(noting(&state, &user, "password", changed_note(ended))),
        Ok(false) => "Your current password is not right.".to_string(),
        Err(AppError::Invalid(m)) => format!("The new password cannot be used: {m}."),
        Err(e) => return Err(e.into()),
    };
    let body = sessions_page(&state, &user, None, Some(why)).await?;
    Ok(HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[derive(Template)]
#[template(path = "account/reauth.html")]
pub struct ReauthView {
    pub csrf: String,
    pub email: String,
    pub next: String,
    /// Where **Cancel** goes: the workspace home.
    pub cancel: String,
    pub error: Option<String>,
    /// The ways this person can prove who they are.
    pub proofs: Proofs,
}

/// **Confirm it's you** with `status`, offering what the person has: their
/// password (unless it is off), a two-step or recovery code, a passkey.
async fn reauth_page(
    state: &AppState,
    user: &CurrentUser,
    next: Option<String>,
    error: Option<String>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, HtmlError> {
    let uid = user.user.id.clone();
    let mut proofs = db::run(&state.pool, move |c| sessions::proofs(c, &uid)).await?;
    proofs.passkey &= crate::domain::passkeys::unavailable(&state.config).is_none();
    let view = ReauthView {
        csrf: user.csrf().to_string(),
        email: user.user.email.clone(),
        next: next.unwrap_or_default(),
        cancel: "/".into(),
        error,
        proofs,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(view.render()?))
}

#[derive(Deserialize)]
pub struct ReauthQuery {
    next: Option<String>,
}

/// **Confirm it's you**.
pub async fn view_reauth_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<ReauthQuery>,
) -> Result<HttpResponse, HtmlError> {
    let next = safe_next(q.next.as_deref());
    reauth_page(&state, &user, next, None, actix_web::http::StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ReauthFields {
    #[serde(default)]
    password: String,
    /// A two-step code or a recovery code, instead of the password.
    #[serde(default)]
    code: String,
    next: Option<String>,
}

impl ReauthFields {
    fn proof(&mut self) -> (Proof, &'static str) {
        match self.code.trim().is_empty() {
            true => (
                Proof::Password(std::mem::take(&mut self.password)),
                "Incorrect password.",
            ),
            false => (
                Proof::Code(std::mem::take(&mut self.code)),
                "That code is not right. Nothing changed.",
            ),
        }
    }
}

/// The password or a code again: right, the session's proof is now and the
/// person goes on to `next` (the page they came from); wrong, it counts
/// toward the login throttle and the page shows again (401).
pub async fn view_reauth_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CsrfForm<ReauthFields>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let mut f = form.into_inner();
    let next = safe_next(f.next.as_deref());
    let (sec, ip) = (&state.config.security, crate::http::peer_ip(&req));
    let (hash, (proof, wrong)) = (user.session.id_hash.as_str(), f.proof());
    let (pool, pw, sb) = (&state.pool, &state.passwords, &state.secret_box);
    match sessions::reauthenticate(pool, pw, sb, sec, &user.user, hash, proof, &ip).await {
        Ok(true) => Ok(see_other(next.unwrap_or_else(|| SESSIONS.into()))),
        Ok(false) => {
            let status = actix_web::http::StatusCode::UNAUTHORIZED;
            reauth_page(&state, &user, next, Some(wrong.into()), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// **Use a passkey** on Confirm it's you: the options naming the person's
/// passkeys, bound to this session.
pub async fn post_reauth_passkey_options(
    state: web::Data<AppState>,
    req: CsrfJson<NoFields>,
) -> Result<HttpResponse, JsonError> {
    let cfg = state.config.clone();
    let user = req.user;
    let c = db::run(&state.pool, move |c| {
        let purpose = PasskeyPurpose::Reauth;
        passkeys::start_proof(c, &cfg, &user.user.id, purpose, &user.session.id_hash)
    })
    .await?;
    Ok(super::passkeys::ceremony(c))
}

#[derive(Deserialize)]
pub struct ReauthPasskeyFields {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    credential: serde_json::Value,
    next: Option<String>,
}

/// The passkey's answer: the session's proof is now and the script goes on
/// to `next`; another person's passkey or a failed one is refused (S95).
pub async fn post_reauth_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfJson { user, body }: CsrfJson<ReauthPasskeyFields>,
) -> Result<HttpResponse, JsonError> {
    let ip = crate::http::peer_ip(&req);
    let answer = ProofAnswer {
        challenge: body.challenge,
        credential: body.credential,
    };
    let hash = user.session.id_hash.as_str();
    let held = sessions::reauthenticate_with_passkey(
        &state.pool,
        &state.config,
        &user.user,
        hash,
        answer,
        &ip,
    )
    .await?;
    if !held {
        return Err(AppError::Forbidden(
            "This passkey is not one of yours here, or it could not be verified. Nothing changed."
                .into(),
        )
        .into());
    }
    let next = safe_next(body.next.as_deref()).unwrap_or_else(|| SESSIONS.into());
    Ok(HttpResponse::Ok().json(serde_json::json!({ "redirect": next })))
}
