//! HTTP plumbing every handler shares, and nothing about any one screen:
//! the three response errors, sessions and the extractors that load the
//! user and check their role, CSRF-checked forms, the page layout, security
//! headers, the NUL filter, metrics, assets and health.

pub mod assets;
pub mod csrf;
pub mod errors;
pub mod extract;
pub mod form;
pub mod headers;
pub mod layout;
pub mod nul;
pub mod once;
pub mod ops;
pub mod session;

use actix_web::http::header;
use actix_web::HttpResponse;

/// A 200 page.
pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A page with a cookie set on it when there is one (a one-time note's
/// removal, say).
pub fn html_with(
    body: String,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, crate::error::AppError> {
    let mut resp = html(body);
    if let Some(c) = cookie {
        resp.add_cookie(&c)
            .map_err(|e| crate::error::AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
}

/// A 303 to `location` (always one of ours: never a URL from a form).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.into()))
        .finish()
}

/// The client's address, for throttles (the TCP peer; forwarded headers are
/// not trusted).
pub fn peer_ip(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
