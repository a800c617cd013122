//! The CSRF checks `http::form`'s extractors run (no handler calls them). Logged-in forms carry
//! the session's secret; the login form (no session yet) carries a
//! double-submit cookie. Both also refuse cross-site requests by
//! `Sec-Fetch-Site` and a foreign `Origin`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;

use crate::crypto;
use crate::db::models::Session;
use crate::http::errors::HtmlError;

const LOGIN_COOKIE: &str = "pg_login_csrf";
const LOGIN_COOKIE_SECURE: &str = "__Host-pg_login_csrf";

pub(crate) fn forbidden() -> HtmlError {
    HtmlError::Forbidden(
        "This form has expired or did not come from this site. Go back, reload the page and try again."
            .into(),
    )
}

/// Refuses requests a browser marks as cross-site, and those whose `Origin`
/// names another host than the one they were sent to. Browsers send
/// `Origin: null` on same-origin form posts from `no-referrer` pages (ours), so
/// `null` says nothing; `Sec-Fetch-Site` is trusted first where sent.
fn same_origin(req: &HttpRequest) -> bool {
    if let Some(site) = req.headers().get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin") | Ok("none"));
    }
    let origin = match req.headers().get(header::ORIGIN).map(|o| o.to_str()) {
        None | Some(Ok("null")) => return true,
        Some(Ok(o)) => o,
        Some(Err(_)) => return false,
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match (url::Url::parse(origin), host) {
        (Ok(o), Some(host)) => {
            let authority = match o.port() {
                Some(p) => format!("{}:{p}", o.host_str().unwrap_or_default()),
                None => o.host_str().unwrap_or_default().to_string(),
            };
            authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// The origin half of the check, for forms whose token is verified elsewhere
/// (the consent form's token is bound to its pending request in the database).
pub fn check_origin(req: &HttpRequest) -> Result<(), HtmlError> {
    if same_origin(req) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Checks a logged-in form's token against the session.
pub fn verify(req: &HttpRequest, session: &Session, token: Option<&str>) -> Result<(), HtmlError> {
    match token {
        Some(t)
            if !t.is_empty()
                && same_origin(req)
                && crypto::constant_time_eq(t, &session.csrf_secret) =>
        {
            Ok(())
        }
        _ => Err(forbidden()),
    }
}

pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        LOGIN_COOKIE_SECURE
    } else {
        LOGIN_COOKIE
    }
}

/// The login form's token: the existing double-submit cookie's value, or a
/// fresh one with the cookie to set.
pub fn login_token(req: &HttpRequest, secure: bool) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(login_cookie_name(secure)) {
        let v = c.value();
        if v.len() == 43
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return (v.to_string(), None);
        }
    }
    let value = crypto::random_token(crypto::SECRET_BYTES);
    let cookie = Cookie::build(login_cookie_name(secure), value.clone())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    (value, Some(cookie))
}

/// Checks the login form's token against its double-submit cookie.
pub fn verify_login(req: &HttpRequest, secure: bool, token: Option<&str>) -> Result<(), HtmlError> {
    let cookie = req.cookie(login_cookie_name(secure));
    match (token, cookie) {
        (Some(t), Some(c))
            if !t.is_empty() && same_origin(req) && crypto::constant_time_eq(t, c.value()) =>
        {
            Ok(())
        }
        _ => Err(forbidden()),
    }
}
