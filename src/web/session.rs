//! Login, logout and server-side sessions. The cookie holds a random id; the
//! `sessions` table holds its SHA-256, so logout and expiry are real (S51).
//! `CurrentUser` is the extractor a handler names to require a login.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::{self, LoginOutcome};
use crate::crypto;
use crate::db::models::{now, Session, User};
use crate::db::queries::sessions;
use crate::db::{self};
use crate::error::AppError;
use crate::web::csrf;
use crate::web::errors::HtmlError;
use crate::AppState;

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pg_session"
    } else {
        "pg_session"
    }
}

/// A logged-in user and their session.
#[derive(Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

impl CurrentUser {
    pub fn csrf(&self) -> &str {
        &self.session.csrf_secret
    }
}

/// Reads the session cookie and loads the live session, if any.
async fn load(req: &HttpRequest) -> Result<Option<CurrentUser>, HtmlError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(AppError::internal("app state missing").into());
    };
    let Some(cookie) = req.cookie(cookie_name(state.config.issuer_is_https())) else {
        return Ok(None);
    };
    let hash = crypto::sha256_hex(cookie.value());
    let found = db::run(&state.pool, move |c| Ok(sessions::live(c, &hash, now())?)).await?;
    Ok(found.map(|(session, user)| CurrentUser { user, session }))
}

/// Where to come back to after logging in: the same GET, query and all.
fn return_path(req: &HttpRequest) -> Option<String> {
    if req.method() != actix_web::http::Method::GET {
        return None;
    }
    Some(match req.uri().query() {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_string(),
    })
}

impl FromRequest for CurrentUser {
    type Error = HtmlError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load(&req).await? {
                Some(u) => Ok(u),
                None => Err(HtmlError::LoginRequired(return_path(&req))),
            }
        })
    }
}

/// A page that works with or without a login.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequest for MaybeUser {
    type Error = HtmlError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(load(&req).await?)) })
    }
}

/// `next` is honoured only as a same-origin absolute path (S50): no scheme,
/// no `//host`, no backslash tricks, no control characters.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && !n.chars().any(|c| c.is_control() || c.is_whitespace())
        && n.len() <= 4096;
    ok.then(|| n.to_string())
}

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
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub async fn view_login_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, HtmlError> {
    let next = safe_next(q.next.as_deref());
    if user.0.is_some() {
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

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

pub async fn view_login_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Option<web::Form<LoginForm>>,
) -> Result<HttpResponse, HtmlError> {
    let secure = state.config.issuer_is_https();
    // A body that is not our form carries no token: refused like a missing one.
    let Some(form) = form else {
        return Err(csrf::verify_login(&req, secure, None)
            .err()
            .unwrap_or(HtmlError::BadRequest("The form could not be read.".into())));
    };
    csrf::verify_login(&req, secure, form.csrf.as_deref())?;
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let security = state.config.security.clone();
    let (email, password) = (form.email.clone(), form.password);
    let outcome = db::run(&state.pool, move |c| {
        accounts::check_login_throttle(c, &security, &email, &ip)?;
        accounts::login(c, &security, &email, &password, &ip)
    })
    .await?;
    match outcome {
        LoginOutcome::Ok(user) => {
            let old = req
                .cookie(cookie_name(secure))
                .map(|c| crypto::sha256_hex(c.value()));
            let ttl = state.config.security.session_ttl_s;
            let (cookie_value, session) = new_session(&user, ttl);
            db::run(&state.pool, move |c| {
                db::write_tx(c, |c| {
                    // A fresh id at every login: an id planted before login is worthless after.
                    if let Some(old) = old {
                        sessions::delete(c, &old)?;
                    }
                    sessions::delete_expired(c, now())?;
                    sessions::insert(c, &session)?;
                    Ok(())
                })
            })
            .await?;
            tracing::info!(user = %user.id, "login");
            let cookie = Cookie::build(cookie_name(secure), cookie_value)
                .path("/")
                .http_only(true)
                .secure(secure)
                .same_site(SameSite::Lax)
                .max_age(CookieDuration::seconds(ttl))
                .finish();
            let mut resp = see_other(next.as_deref().unwrap_or("/"));
            resp.add_cookie(&cookie)
                .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
            Ok(resp)
        }
        LoginOutcome::BadCredentials => {
            let view = LoginView {
                csrf: form.csrf.unwrap_or_default(),
                next: next.unwrap_or_default(),
                email: form.email,
                error: Some("Incorrect email or password.".into()),
            };
            Ok(html(view.render()?))
        }
    }
}

/// A new session row and the cookie value that names it.
pub fn new_session(user: &User, ttl_s: i64) -> (String, Session) {
    let value = crypto::new_session_id();
    let t = now();
    let session = Session {
        id_hash: crypto::sha256_hex(&value),
        user_id: user.id.clone(),
        csrf_secret: crypto::random_token(crypto::SECRET_BYTES),
        created_at: t,
        expires_at: t + ttl_s,
    };
    (value, session)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

pub async fn view_logout_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let hash = user.session.id_hash.clone();
    db::run(&state.pool, move |c| Ok(sessions::delete(c, &hash)?)).await?;
    let secure = state.config.issuer_is_https();
    let mut gone = Cookie::build(cookie_name(secure), "")
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    gone.make_removal();
    let mut resp = see_other("/login");
    resp.add_cookie(&gone)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}
