//! `HtmlError`: every failure a person sees is a page saying what is wrong,
//! with the right status. Built from `AppError` in one place; server faults
//! are logged with a reference the page shows.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("too many attempts")]
    Throttled(i64),
    /// Not logged in: off to the login page, coming back to `next` afterwards.
    #[error("login required")]
    LoginRequired(Option<String>),
    #[error("internal error")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorView {
    pub status: u16,
    pub title: &'static str,
    pub message: String,
    pub reference: Option<String>,
}

impl From<AppError> for HtmlError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => HtmlError::NotFound,
            AppError::Invalid(m) => HtmlError::BadRequest(m),
            AppError::Conflict(m) => HtmlError::Conflict(m),
            AppError::Forbidden(m) => HtmlError::Forbidden(m),
            AppError::Throttled(s) => HtmlError::Throttled(s),
            other => {
                let reference = crate::crypto::new_uuid();
                tracing::error!(%reference, error = %other, "request failed");
                HtmlError::Internal(reference)
            }
        }
    }
}

impl From<askama::Error> for HtmlError {
    fn from(e: askama::Error) -> Self {
        HtmlError::from(AppError::internal(format!("template: {e}")))
    }
}

impl ResponseError for HtmlError {
    fn status_code(&self) -> StatusCode {
        match self {
            HtmlError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HtmlError::Conflict(_) => StatusCode::CONFLICT,
            HtmlError::Forbidden(_) => StatusCode::FORBIDDEN,
            HtmlError::NotFound => StatusCode::NOT_FOUND,
            HtmlError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            HtmlError::LoginRequired(_) => StatusCode::SEE_OTHER,
            HtmlError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let HtmlError::LoginRequired(next) = self {
            let location = match next {
                Some(n) => format!("/login?next={}", url_encode(n)),
                None => "/login".to_string(),
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        let (title, message, reference) = match self {
            HtmlError::BadRequest(m) => ("Bad request", m.clone(), None),
            HtmlError::Conflict(m) => ("Conflict", m.clone(), None),
            HtmlError::Forbidden(m) => ("Not allowed", m.clone(), None),
            HtmlError::NotFound => (
                "Page not found",
                "This page does not exist, or you do not have access to it.".to_string(),
                None,
            ),
            HtmlError::Throttled(s) => (
                "Too many attempts",
                format!(
                    "Too many attempts. Try again in {} minute(s).",
                    (s + 59) / 60
                ),
                None,
            ),
            HtmlError::Internal(r) => (
                "Something went wrong",
                "The server could not complete this request. It has been logged.".to_string(),
                Some(r.clone()),
            ),
            HtmlError::LoginRequired(_) => ("", String::new(), None),
        };
        let view = ErrorView {
            status: status.as_u16(),
            title,
            message,
            reference,
        };
        let mut resp = HttpResponse::build(status);
        if let HtmlError::Throttled(s) = self {
            resp.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        match view.render() {
            Ok(body) => resp.content_type("text/html; charset=utf-8").body(body),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                resp.content_type("text/plain; charset=utf-8")
                    .body(view.title)
            }
        }
    }
}

/// Percent-encodes a query value (everything outside the unreserved set).
pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The fallback for unknown routes: JSON under `/v1/`, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/v1/") {
        crate::api::ApiError::not_found_route().error_response()
    } else {
        HtmlError::NotFound.error_response()
    }
}
