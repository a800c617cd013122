//! **My account → Passkeys** at `/account/passkeys`, and the passkey half
//! of the login page: the JSON endpoints `static/passkeys.js` calls. The
//! rules live in `crate::domain::passkeys`; this module is the page and the
//! endpoints, each failing as `{"error": …}` (`JsonError`).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::crypto;
use crate::db::{self, models::PasskeyId, models::WorkspaceId};
use crate::domain::passkeys::{self, Ceremony, PasskeyLogin};
use crate::error::AppError;
use crate::http::errors::{HtmlError, JsonError};
use crate::http::extract::{CurrentUser, Sudo};
use crate::http::form::{CsrfForm, CsrfJson, LoginJson, NoFields};
use crate::http::html;
use crate::http::layout::{self, format_date, Shell};
use crate::http::once::{self, Note};
use crate::http::session::{cookie_name, safe_next, session_cookie};
use crate::state::AppState;

pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    pub created_on: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "account/passkeys.html")]
pub struct PasskeysView {
    pub shell: Shell,
    pub passkeys: Vec<PasskeyItem>,
    /// Why passkeys cannot work with this issuer (an IP address), if so.
    pub unavailable: Option<String>,
    /// "Added the passkey …", "Removed the passkey …", once.
    pub flash: Option<String>,
    /// Password sign-in is off: the person signs in with passkeys only.
    pub password_off: bool,
}

/// Where the page's one-time notes are sealed for and open.
const PAGE: &str = "/account/passkeys";

fn note(event: &str, name: String) -> Note {
    Note {
        event: event.into(),
        name,
        ..Note::default()
    }
}

/// This request's one-time note in words, and the cookie deleting it.
async fn flash_of(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
) -> Result<(Option<String>, Option<actix_web::cookie::Cookie<'static>>), HtmlError> {
    let secure = state.config.issuer_is_https();
    let (n, removal) = once::take_at::<Note>(
        req,
        &state.pool,
        &state.secret_box,
        &user.session,
        secure,
        PAGE,
    )
    .await?;
    let words = n.map(|n| match n.event.as_str() {
        "added" => format!("Added the passkey {}.", n.name),
        "password_off" => "Password sign-in is off: you sign in with a passkey only.".into(),
        "password_on" => "Password sign-in is on again: your password signs you in.".into(),
        "removed_ended" => format!(
            "Removed the passkey {}. It no longer signs you in. Your other sessions have ended.",
            n.name
        ),
        _ => format!("Removed the passkey {}. It no longer signs you in.", n.name),
    });
    Ok((words, removal))
}

#[derive(Deserialize)]
pub struct AccountQuery {
    w: Option<String>,
}

/// The page opened at another address than the issuer (`127.0.0.1` for a
/// `localhost` issuer): the browser would refuse the ceremony, so say where.
fn elsewhere(req: &HttpRequest, state: &AppState) -> Option<String> {
    let issuer = &state.config.server.issuer;
    let authority = issuer.split_once("://").map_or(issuer.as_str(), |(_, a)| a);
    let host = req.connection_info().host().to_string();
    (!host.eq_ignore_ascii_case(authority)).then(|| {
        format!("Passkeys work only at pagegrant's own address: open {issuer}/account/passkeys.")
    })
}

pub async fn view_passkeys_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<AccountQuery>,
) -> Result<HttpResponse, HtmlError> {
    let (flash, removal) = flash_of(&req, &state, &user).await?;
    let w = q.w.as_deref().and_then(WorkspaceId::parse);
    let (shell, rows, password_off) = db::run(&state.pool, move |c| {
        let shell = layout::load_any(c, &user, w.as_ref())?;
        let off = passkeys::password_off(c, &user.user.id)?;
        Ok((shell, passkeys::list(c, &user.user.id)?, off))
    })
    .await?;
    let passkeys = rows.into_iter().map(item).collect();
    let unavailable = passkeys::unavailable(&state.config).or_else(|| elsewhere(&req, &state));
    let view = PasskeysView {
        shell,
        passkeys,
        unavailable,
        flash,
        password_off,
    };
    let mut resp = html(view.render()?);
    if let Some(c) = removal {
        resp.add_cookie(&c)
            .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
}

fn item(p: crate::db::models::PasskeyRow) -> PasskeyItem {
    PasskeyItem {
        id: p.id.to_string(),
        name: p.name,
        created_on: format_date(p.created_at),
        last_used: p.last_used_at.map_or_else(|| "Never".into(), format_date),
    }
}

pub(crate) fn ceremony(c: Ceremony) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "challenge": c.id, "options": c.options }))
}

#[derive(Deserialize)]
pub struct AddOptions {
    #[serde(default)]
    name: String,
}

/// **Add a passkey**: the options for `navigator.credentials.create`.
pub async fn post_passkey_options(
    state: web::Data<AppState>,
    req: CsrfJson<AddOptions>,
) -> Result<HttpResponse, JsonError> {
    let cfg = state.config.clone();
    let CsrfJson { user, body } = req;
    let c = db::run(&state.pool, move |c| {
        passkeys::start_registration(c, &cfg, &user.user, &user.session.id_hash, &body.name)
    })
    .await?;
    Ok(ceremony(c))
}

#[derive(Deserialize)]
pub struct Answer {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    credential: Value,
    next: Option<String>,
}

/// The new passkey as the browser made it: verified, then stored.
pub async fn post_passkey_add(
    state: web::Data<AppState>,
    req: CsrfJson<Answer>,
) -> Result<HttpResponse, JsonError> {
    let cfg = state.config.clone();
    let CsrfJson { user, body } = req;
    let session = user.session.clone();
    let row = db::run(&state.pool, move |c| {
        let hash = &user.session.id_hash;
        passkeys::finish_registration(c, &cfg, &user.user, hash, &body.challenge, &body.credential)
    })
    .await?;
    let mut resp = HttpResponse::Ok().json(json!({ "name": row.name, "redirect": PAGE }));
    let secure = state.config.issuer_is_https();
    if let Some(c) = once::seal_at(
        &state.secret_box,
        &session,
        secure,
        PAGE,
        &note("added", row.name),
    ) {
        resp.add_cookie(&c)
            .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "account/confirm_remove_passkey.html")]
pub struct ConfirmRemoveView {
    pub shell: Shell,
    pub id: String,
    pub name: String,
    /// Why it cannot go (the last passkey of someone who needs it).
    pub blocked: Option<&'static str>,
}

/// **Remove** on a passkey: its confirm page, with **End all other
/// sessions** ticked, as Change password has it.
pub async fn view_passkey_remove_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<PasskeyId>,
) -> Result<HttpResponse, HtmlError> {
    let id = id.into_inner();
    let (shell, (row, blocked)) = db::run(&state.pool, move |c| {
        let shell = layout::load_any(c, &user, None)?;
        Ok((shell, passkeys::for_removal(c, &user.user.id, &id)?))
    })
    .await?;
    let view = ConfirmRemoveView {
        shell,
        id: row.id.to_string(),
        name: row.name,
        blocked,
    };
    Ok(html(view.render()?))
}

#[derive(Deserialize)]
pub struct RemoveFields {
    end_others: Option<String>,
}

/// **Remove passkey**: one of the person's own passkeys (audited), and
/// their other sessions when **End all other sessions** is ticked.
pub async fn view_passkey_remove_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<PasskeyId>,
    form: CsrfForm<RemoveFields>,
) -> Result<HttpResponse, HtmlError> {
    let (id, end_others) = (id.into_inner(), form.into_inner().end_others.is_some());
    let session = user.session.clone();
    let name = db::run(&state.pool, move |c| {
        let keep = end_others.then_some(user.session.id_hash.as_str());
        passkeys::remove(c, &user.user.id, &id, keep)
    })
    .await?;
    let event = if end_others {
        "removed_ended"
    } else {
        "removed"
    };
    let secure = state.config.issuer_is_https();
    let note = note(event, name);
    Ok(once::see_other_noting(
        &state.secret_box,
        &session,
        secure,
        PAGE.into(),
        note,
        PAGE,
    ))
}

#[derive(Deserialize)]
pub struct PasswordSignInFields {
    /// "on" or "off".
    #[serde(default)]
    password: String,
}

/// **Turn off password sign-in** / **Turn on password sign-in**: a
/// sensitive action (`Sudo`); off needs a passkey (S96).
pub async fn view_password_sign_in_post(
    state: web::Data<AppState>,
    Sudo(user): Sudo,
    form: CsrfForm<PasswordSignInFields>,
) -> Result<HttpResponse, HtmlError> {
    let on = match form.into_inner().password.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::invalid("Unknown action.").into()),
    };
    let uid = user.user.id.clone();
    db::run(&state.pool, move |c| {
        passkeys::set_password_sign_in(c, &uid, on)
    })
    .await?;
    let event = if on { "password_on" } else { "password_off" };
    let secure = state.config.issuer_is_https();
    let note = note(event, String::new());
    Ok(once::see_other_noting(
        &state.secret_box,
        &user.session,
        secure,
        PAGE.into(),
        note,
        PAGE,
    ))
}

/// **Sign in with a passkey** (and the login page's conditional UI): the
/// options for `navigator.credentials.get`, bound to this login page.
pub async fn post_login_passkey_options(
    state: web::Data<AppState>,
    req: LoginJson<NoFields>,
) -> Result<HttpResponse, JsonError> {
    let cfg = state.config.clone();
    let bound = req.bound_to;
    let c = db::run(&state.pool, move |c| passkeys::start_login(c, &cfg, &bound)).await?;
    Ok(ceremony(c))
}

/// The browser's answer: a session as a password login starts one, and
/// where to go (`next`, as the login form keeps it).
pub async fn post_login_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    LoginJson { bound_to, body }: LoginJson<Answer>,
) -> Result<HttpResponse, JsonError> {
    let secure = state.config.issuer_is_https();
    let login = PasskeyLogin {
        challenge: body.challenge,
        credential: body.credential,
        ip: crate::http::peer_ip(&req),
        bound_to,
        replaces: req
            .cookie(cookie_name(secure))
            .map(|c| crypto::sha256_hex(c.value())),
    };
    let (user, value) = passkeys::sign_in(&state.pool, &state.config, login).await?;
    tracing::info!(user = %user.id, "login with a passkey");
    let next = safe_next(body.next.as_deref()).unwrap_or_else(|| "/".into());
    let mut resp = HttpResponse::Ok().json(json!({ "redirect": next }));
    let cookie = session_cookie(secure, value, Some(state.config.security.session_ttl_s));
    resp.add_cookie(&cookie)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}
