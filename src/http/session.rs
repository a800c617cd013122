//! Server-side sessions. The cookie holds a random id; the `sessions` table
//! holds its SHA-256, so logout and expiry are real (S51). The extractors
//! that require a session live in `extract`; the login page in `pages::login`.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest};

use crate::crypto;
use crate::db::models::{now, Session, User};
use crate::db::{self};
use crate::error::AppError;
use crate::http::errors::HtmlError;
use crate::state::AppState;

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pg_session"
    } else {
        "pg_session"
    }
}

/// What finds a request's session, read from the request without the
/// database: the cookie's hash, and the browser and address `touch`
/// records.
pub(crate) struct SessionKey {
    hash: String,
    ua: String,
    ip: String,
}

/// The request's session key, or `None` without a session cookie.
pub(crate) fn key_of(req: &HttpRequest) -> Result<Option<SessionKey>, HtmlError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(AppError::internal("app state missing").into());
    };
    let Some(cookie) = req.cookie(cookie_name(state.config.issuer_is_https())) else {
        return Ok(None);
    };
    let ua = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok(Some(SessionKey {
        hash: crypto::sha256_hex(cookie.value()),
        ua,
        ip: crate::http::peer_ip(req),
    }))
}

/// The live session of `key` and its user, if any, and (at most once a
/// minute, or when the browser or address changed) its last-seen time for
/// My account → Sessions; on a database thread, so a handler can do it in
/// its own trip (`extract::LazyUser`).
pub(crate) fn load_with(
    c: &mut db::Conn,
    key: SessionKey,
) -> crate::error::AppResult<Option<(Session, User)>> {
    let at = now();
    let Some((mut session, user)) = crate::domain::accounts::live_session(c, &key.hash, at)? else {
        return Ok(None);
    };
    crate::domain::sessions::touch(c, &mut session, &key.ua, &key.ip, at)?;
    Ok(Some((session, user)))
}

/// Reads the session cookie and loads the live session and its user, if
/// any, in one trip; `extract` makes the `CurrentUser` of it.
pub(crate) async fn load(req: &HttpRequest) -> Result<Option<(Session, User)>, HtmlError> {
    let Some(key) = key_of(req)? else {
        return Ok(None);
    };
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(AppError::internal("app state missing").into());
    };
    Ok(db::run(&state.pool, move |c| load_with(c, key)).await?)
}

/// Where to come back to after logging in: the same GET, query and all.
pub(crate) fn return_path(req: &HttpRequest) -> Option<String> {
    if req.method() != actix_web::http::Method::GET {
        return None;
    }
    Some(match req.uri().query() {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_string(),
    })
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

/// The session cookie carrying `value`, for `max_age` seconds (none: a
/// cookie to remove).
pub fn session_cookie(secure: bool, value: String, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::build(cookie_name(secure), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(s) = max_age {
        c.set_max_age(CookieDuration::seconds(s));
    }
    c
}
