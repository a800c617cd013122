//! Two-step verification: **My account → Two-step verification** at
//! `/account/two-step` (set up, confirm, recovery codes, turn off), and the
//! login's second step at `/login/two-step`, which a right password for an
//! account with two-step verification leads to (`pages::login`).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::domain::accounts::PENDING_LOGIN_TTL_S;
use crate::domain::passkeys::{self, ProofAnswer};
use crate::domain::two_step::{self, Choices, SecondAttempt, SecondOutcome, Status};
use crate::error::AppError;
use crate::http::csrf;
use crate::http::errors::{url_encode, HtmlError, JsonError};
use crate::http::extract::CurrentUser;
use crate::http::form::{CsrfForm, LoginForm, LoginJson, NoFields};
use crate::http::layout::{self, Shell};
use crate::http::session::{safe_next, session_cookie};
use crate::http::{html, see_other};
use crate::state::AppState;

fn pending_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pg_two_step"
    } else {
        "pg_two_step"
    }
}

fn pending_cookie(secure: bool, value: String, max_age: i64) -> Cookie<'static> {
    let mut c = Cookie::build(pending_cookie_name(secure), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    c.set_max_age(CookieDuration::seconds(max_age));
    c
}

fn second_step_path(next: Option<&str>) -> String {
    match next {
        Some(n) => format!("/login/two-step?next={}", url_encode(n)),
        None => "/login/two-step".into(),
    }
}

fn with_cookie(mut resp: HttpResponse, c: &Cookie<'static>) -> Result<HttpResponse, HtmlError> {
    resp.add_cookie(c)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}

/// After a right password: the pending login's cookie, and off to the
/// second step with the same `next`.
pub fn to_second_step(
    secure: bool,
    pending: String,
    next: Option<&str>,
) -> Result<HttpResponse, HtmlError> {
    let c = pending_cookie(secure, pending, PENDING_LOGIN_TTL_S);
    with_cookie(see_other(second_step_path(next)), &c)
}

#[derive(Template)]
#[template(path = "two_step_login.html")]
pub struct SecondStepView {
    pub csrf: String,
    pub next: String,
    pub error: Option<String>,
    /// The recovery-code form instead of the 6-digit one.
    pub recovery: bool,
    /// The 6-digit form (an app is the person's method).
    pub app: bool,
    /// **Use a passkey** (the person has one).
    pub passkey: bool,
}

#[derive(Deserialize)]
pub struct SecondStepQuery {
    next: Option<String>,
    recovery: Option<String>,
}

fn pending_hash(req: &HttpRequest, secure: bool) -> Option<String> {
    req.cookie(pending_cookie_name(secure))
        .map(|c| crate::crypto::sha256_hex(c.value()))
}

/// Back to the password: the pending login is gone or never was.
fn start_over(next: Option<&str>) -> HttpResponse {
    see_other(match next {
        Some(n) => format!("/login?next={}", url_encode(n)),
        None => "/login".into(),
    })
}

pub async fn view_second_step_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SecondStepQuery>,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    let next = safe_next(q.next.as_deref());
    let Some(hash) = pending_hash(&req, secure) else {
        return Ok(start_over(next.as_deref()));
    };
    let Some(ch) = db::run(&state.pool, move |c| two_step::pending_choices(c, &hash)).await? else {
        return Ok(start_over(next.as_deref()));
    };
    let (token, cookie) = csrf::login_token(&req, secure);
    let view = SecondStepView {
        csrf: token,
        next: next.unwrap_or_default(),
        error: None,
        recovery: q.recovery.is_some() || !ch.app,
        app: ch.app,
        passkey: ch.passkey && passkeys::unavailable(&state.config).is_none(),
    };
    let resp = html(view.render()?);
    match cookie {
        Some(c) => with_cookie(resp, &c),
        None => Ok(resp),
    }
}

#[derive(Deserialize)]
pub struct SecondStepFields {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
    recovery: Option<String>,
}

impl SecondStepFields {
    /// The form again, with the same `next` and why. The choices are the
    /// pending login's (`pending_choices`); none when it is gone.
    fn again(&self, next: Option<String>, error: String, ch: &Option<Choices>) -> SecondStepView {
        let app = ch.as_ref().is_some_and(|c| c.app);
        SecondStepView {
            csrf: self.csrf.clone(),
            next: next.unwrap_or_default(),
            error: Some(error),
            recovery: self.recovery.is_some() || !app,
            app,
            passkey: ch.as_ref().is_some_and(|c| c.passkey),
        }
    }
}

/// "15 minutes", "1 minute": as the login page says it.
fn minutes(wait_s: i64) -> String {
    match (wait_s.max(1) + 59) / 60 {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    }
}

pub async fn view_second_step_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    LoginForm(mut f): LoginForm<SecondStepFields>,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    let next = safe_next(f.next.as_deref());
    let Some(pending_hash) = pending_hash(&req, secure) else {
        return Ok(start_over(next.as_deref()));
    };
    let attempt = SecondAttempt {
        pending_hash,
        code: std::mem::take(&mut f.code),
        ip: crate::http::peer_ip(&req),
    };
    let (st, sec) = (state.clone(), state.config.security.clone());
    let outcome = db::run(&state.pool, move |c| {
        let out = two_step::second_step(c, &st.secret_box, &sec, &attempt);
        let choices = two_step::pending_choices(c, &attempt.pending_hash)?;
        Ok((out, choices))
    })
    .await;
    let (outcome, choices) = match outcome {
        Ok((out, ch)) => (out, ch),
        Err(e) => (Err(e), None),
    };
    answer_second_step(&state, outcome, f, next, choices)
}

/// The answer to a second step: signed in, the form again, or start over.
fn answer_second_step(
    state: &AppState,
    outcome: Result<SecondOutcome, AppError>,
    f: SecondStepFields,
    next: Option<String>,
    choices: Option<Choices>,
) -> Result<HttpResponse, HtmlError> {
    let again = |error: String| f.again(next.clone(), error, &choices);
    match outcome {
        Ok(SecondOutcome::Ok(user, value)) => {
            tracing::info!(user = %user.id, "login with two-step verification");
            logged_in(state, value, next.as_deref())
        }
        Ok(SecondOutcome::Wrong) => Ok(html(
            again("That code is not right. Try the code your app shows now.".into()).render()?,
        )),
        Ok(SecondOutcome::Expired) => Ok(start_over(next.as_deref())),
        Err(AppError::Throttled(wait_s)) => {
            let why = format!("Too many attempts. Try again in {}.", minutes(wait_s));
            throttled(again(why), wait_s)
        }
        Err(e) => Err(e.into()),
    }
}

/// The session's cookie, the pending login's gone, and on to `next`.
fn logged_in(
    state: &AppState,
    value: String,
    next: Option<&str>,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    let ttl = state.config.security.session_ttl_s;
    let mut gone = pending_cookie(secure, String::new(), 0);
    gone.make_removal();
    let resp = with_cookie(see_other(next.unwrap_or("/")), &gone)?;
    with_cookie(resp, &session_cookie(secure, value, Some(ttl)))
}

/// Throttled: the form again with the wait, a 429 with `Retry-After`.
fn throttled(view: SecondStepView, wait_s: i64) -> Result<HttpResponse, HtmlError> {
    Ok(HttpResponse::TooManyRequests()
        .insert_header((
            actix_web::http::header::RETRY_AFTER,
            wait_s.max(1).to_string(),
        ))
        .content_type("text/html; charset=utf-8")
        .body(view.render()?))
}

/// **Use a passkey** at the second step: the options for
/// `navigator.credentials.get`, naming only the pending login's person's
/// passkeys and bound to that pending login.
pub async fn post_second_step_passkey_options(
    req: HttpRequest,
    state: web::Data<AppState>,
    _csrf: LoginJson<NoFields>,
) -> Result<HttpResponse, JsonError> {
    let hash = pending_hash(&req, state.config.issuer_is_https()).unwrap_or_default();
    let cfg = state.config.clone();
    let c = db::run(&state.pool, move |c| {
        two_step::start_passkey_step(c, &cfg, &hash)
    })
    .await?;
    Ok(super::passkeys::ceremony(c))
}

#[derive(Deserialize)]
pub struct PasskeyStepFields {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    credential: serde_json::Value,
    next: Option<String>,
}

/// The passkey's answer at the second step: signed in (JSON naming where
/// to go, the session's cookie), or a JSON refusal, nothing changed.
pub async fn post_second_step_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    LoginJson { body, .. }: LoginJson<PasskeyStepFields>,
) -> Result<HttpResponse, JsonError> {
    let hash = pending_hash(&req, state.config.issuer_is_https()).unwrap_or_default();
    let (cfg, ip) = (state.config.clone(), crate::http::peer_ip(&req));
    let answer = ProofAnswer {
        challenge: body.challenge,
        credential: body.credential,
    };
    let outcome = db::run(&state.pool, move |c| {
        two_step::passkey_second_step(c, &cfg, &hash, &ip, &answer)
    })
    .await?;
    let next = safe_next(body.next.as_deref());
    Ok(passkey_step_answer(&state, outcome, next)?)
}

/// JSON for a passkey's second step: where to go and the cookies, or why not.
fn passkey_step_answer(
    state: &AppState,
    outcome: SecondOutcome,
    next: Option<String>,
) -> Result<HttpResponse, AppError> {
    match outcome {
        SecondOutcome::Ok(user, value) => {
            tracing::info!(user = %user.id, "login with a password and a passkey");
            let to = next.unwrap_or_else(|| "/".into());
            let resp = HttpResponse::Ok().json(serde_json::json!({ "redirect": to }));
            let secure = state.config.issuer_is_https();
            let mut gone = pending_cookie(secure, String::new(), 0);
            gone.make_removal();
            let ttl = state.config.security.session_ttl_s;
            let resp = add(resp, &gone)?;
            add(resp, &session_cookie(secure, value, Some(ttl)))
        }
        SecondOutcome::Wrong => Err(AppError::Forbidden(
            "This passkey is not one of yours here, or it could not be verified. Try again, or use a recovery code.".into(),
        )),
        SecondOutcome::Expired => Err(AppError::invalid(
            "Your sign-in has expired. Sign in with your password again.",
        )),
    }
}

fn add(mut resp: HttpResponse, c: &Cookie<'static>) -> Result<HttpResponse, AppError> {
    resp.add_cookie(c)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}

/// **My account → Two-step verification**.
#[derive(Template)]
#[template(path = "account/two_step.html")]
pub struct TwoStepView {
    /// My account's frame: the sidebar, the user menu, the tabs.
    pub shell: Shell,
    pub tab: &'static str,
    pub csrf: String,
    pub status: Status,
    /// Recovery codes to show this once (after confirming or renewing).
    pub codes: Vec<String>,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
    /// **Use a passkey** can be offered (the person has one).
    pub has_passkeys: bool,
}

/// The person's two-step status and My account's frame, in one trip.
async fn status_in_frame(
    state: &web::Data<AppState>,
    user: &CurrentUser,
) -> Result<(Shell, Status, bool), HtmlError> {
    let (st, u) = (state.clone(), user.clone());
    Ok(db::run(&state.pool, move |c| {
        let shell = layout::load_any(c, &u, None)?;
        let status = two_step::status(c, &st.secret_box, &u.user)?;
        Ok((shell, status, passkeys::has_any(c, &u.user.id)?))
    })
    .await?)
}

pub async fn view_two_step_get(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let (shell, status, has_passkeys) = status_in_frame(&state, &user).await?;
    let view = TwoStepView {
        shell,
        tab: "two-step",
        csrf: user.csrf().to_string(),
        status,
        codes: Vec::new(),
        error: None,
        notice: None,
        has_passkeys,
    };
    Ok(html(view.render()?))
}

#[derive(Deserialize)]
pub struct TwoStepFields {
    action: String,
    #[serde(default)]
    code: String,
}

const PASSKEY_ON: &str =
    "Two-step verification is on: after your password, you confirm with one of your passkeys.";

/// What a button of the account page did: codes to show once, a note.
type Done = (Vec<String>, Option<&'static str>);

/// `confirm`, `renew` or `off`, each one domain call.
async fn act(
    state: &web::Data<AppState>,
    user: &CurrentUser,
    f: TwoStepFields,
) -> Result<Done, AppError> {
    let (st, u) = (state.clone(), user.user.clone());
    match f.action.as_str() {
        "confirm" => db::run(&state.pool, move |c| {
            two_step::confirm(c, &st.secret_box, &u, &f.code)
        })
        .await
        .map(|codes| (codes, Some("Two-step verification is on."))),
        "passkey" => db::run(&state.pool, move |c| two_step::enable_with_passkey(c, &u))
            .await
            .map(|codes| (codes, Some(PASSKEY_ON))),
        "renew" => db::run(&state.pool, move |c| two_step::renew_codes(c, &u))
            .await
            .map(|codes| {
                (
                    codes,
                    Some("New recovery codes: the old ones no longer work."),
                )
            }),
        "off" => two_step::turn_off(&state.pool, &state.passwords, &st.secret_box, &u, f.code)
            .await
            .map(|()| (Vec::new(), Some("Two-step verification is off."))),
        _ => Err(AppError::invalid("Unknown action.")),
    }
}

/// One form, four buttons: **Set up** (then back to the page, which shows
/// the QR code), **Confirm**, **New recovery codes** and **Turn off**,
/// whose answer is the page itself: recovery codes are shown in it once.
pub async fn view_two_step_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CsrfForm<TwoStepFields>,
) -> Result<HttpResponse, HtmlError> {
    let f = form.into_inner();
    if f.action == "start" {
        let (st, u) = (state.clone(), user.user.clone());
        db::run(&state.pool, move |c| two_step::start(c, &st.secret_box, &u)).await?;
        return Ok(see_other("/account/two-step"));
    }
    let (codes, notice, error) = match act(&state, &user, f).await {
        Ok((codes, notice)) => (codes, notice, None),
        Err(e) => (Vec::new(), None, Some(HtmlError::from(e).refusal()?.1)),
    };
    two_step_page(&state, &user, codes, notice, error).await
}

/// The account page after a button: 400 when it was refused.
async fn two_step_page(
    state: &web::Data<AppState>,
    user: &CurrentUser,
    codes: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<HttpResponse, HtmlError> {
    let (shell, status, has_passkeys) = status_in_frame(state, user).await?;
    let refused = error.is_some();
    let csrf = user.csrf().to_string();
    let body = (TwoStepView {
        shell,
        tab: "two-step",
        csrf,
        status,
        codes,
        error,
        notice,
        has_passkeys,
    })
    .render()?;
    Ok(match refused {
        true => HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(body),
        false => html(body),
    })
}
