//! `/login` and `/logout`. A login rotates the session id (S51); `next` is
//! honoured only as a same-site path (S50).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::crypto;
use crate::db::{self};
use crate::domain::accounts::{self, LoginOutcome};
use crate::error::AppError;
use crate::http::csrf;
use crate::http::errors::HtmlError;
use crate::http::extract::{CurrentUser, MaybeUser};
use crate::http::form::{CsrfForm, LoginForm};
use crate::http::session::{cookie_name, safe_next, session_cookie};
use crate::http::{html, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginView {
    pub csrf: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Set when an authorization asked for the password again
    /// (`prompt=login`): the form shows even to a logged-in person.
    fresh: Option<String>,
}

pub async fn view_login_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, HtmlError> {
    let next = safe_next(q.next.as_deref());
    if user.0.is_some() && q.fresh.is_none() {
        return Ok(see_other(next.as_deref().unwrap_or("/")));
    }
    let secure = state.config.issuer_is_https();
    let (token, cookie) = csrf::login_token(&req, secure);
    let view = LoginView {
        csrf: token,
        next: next.unwrap_or_default(),
        email: String::new(),
        error: None,
    };
    let mut resp = html(view.render()?);
    if let Some(c) = cookie {
        resp.add_cookie(&c)
            .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
}

/// "15 minutes", "1 minute": a wait in seconds, rounded up, as people say it.
fn minutes(wait_s: i64) -> String {
    match (wait_s.max(1) + 59) / 60 {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    }
}

#[derive(Deserialize)]
pub struct LoginFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

impl LoginFields {
    /// The attempt `accounts::sign_in` judges. A fresh session id at every
    /// login: an id planted before login is worthless after.
    fn attempt(&mut self, req: &HttpRequest, secure: bool) -> accounts::LoginAttempt {
        accounts::LoginAttempt {
            email: self.email.clone(),
            password: std::mem::take(&mut self.password),
            ip: crate::http::peer_ip(req),
            replaces: req
                .cookie(cookie_name(secure))
                .map(|c| crypto::sha256_hex(c.value())),
        }
    }

    /// The login page again with what was typed (never the password), the
    /// same `next`, and why.
    fn again(self, next: Option<String>, error: String) -> LoginView {
        LoginView {
            csrf: self.csrf,
            next: next.unwrap_or_default(),
            email: self.email,
            error: Some(error),
        }
    }
}

/// Throttled: the login page again, with the wait and the same `next`, so
/// an OAuth flow in progress is not lost.
fn throttled(view: LoginView, wait_s: i64) -> Result<HttpResponse, HtmlError> {
    Ok(HttpResponse::TooManyRequests()
        .insert_header((
            actix_web::http::header::RETRY_AFTER,
            wait_s.max(1).to_string(),
        ))
        .content_type("text/html; charset=utf-8")
        .body(view.render()?))
}

/// The 303 of a finished login, setting the session cookie.
fn signed_in(
    secure: bool,
    cookie_value: String,
    ttl: i64,
    next: Option<&str>,
) -> Result<HttpResponse, HtmlError> {
    let mut resp = see_other(next.unwrap_or("/"));
    resp.add_cookie(&session_cookie(secure, cookie_value, Some(ttl)))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}

/// A password for an account that turned password sign-in off, right or
/// wrong alike (docs/decisions.md: what it reveals).
const PASSKEYS_ONLY: &str =
    "This account signs in with a passkey only: use Sign in with a passkey.";

/// Why a password login was refused.
fn refusal(outcome: &LoginOutcome) -> &'static str {
    match outcome {
        LoginOutcome::PasskeysOnly => PASSKEYS_ONLY,
        _ => "Incorrect email or password.",
    }
}

pub async fn view_login_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    LoginForm(mut form): LoginForm<LoginFields>,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    let next = safe_next(form.next.as_deref());
    let attempt = form.attempt(&req, secure);
    let sec = &state.config.security;
    match accounts::sign_in(&state.pool, &state.passwords, sec, attempt).await {
        Err(AppError::Throttled(wait_s)) => {
            let why = format!("Too many attempts. Try again in {}.", minutes(wait_s));
            throttled(form.again(next, why), wait_s)
        }
        Err(e) => Err(e.into()),
        Ok(LoginOutcome::Ok(user, cookie_value)) => {
            tracing::info!(user = %user.id, "login");
            signed_in(secure, cookie_value, sec.session_ttl_s, next.as_deref())
        }
        Ok(LoginOutcome::SecondStep(pending)) => {
            super::two_step::to_second_step(secure, pending, next.as_deref())
        }
        Ok(refused) => Ok(html(form.again(next, refusal(&refused).into()).render()?)),
    }
}

/// Logout's form: `next`, for **Not you?** on the consent page (log in as
/// someone else and come back to the same request).
#[derive(Deserialize)]
pub struct LogoutFields {
    next: Option<String>,
}

pub async fn view_logout_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CsrfForm<LogoutFields>,
) -> Result<HttpResponse, HtmlError> {
    let next = safe_next(form.into_inner().next.as_deref());
    let hash = user.session.id_hash.clone();
    db::run(&state.pool, move |c| accounts::sign_out(c, &hash)).await?;
    let mut gone = session_cookie(state.config.issuer_is_https(), String::new(), None);
    gone.make_removal();
    let mut resp = see_other(match next {
        Some(n) => format!("/login?next={}", crate::http::errors::url_encode(&n)),
        None => "/login".into(),
    });
    resp.add_cookie(&gone)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}
