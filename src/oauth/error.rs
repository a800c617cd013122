//! `OAuthError`: the token, introspection and revocation endpoints' errors.
//! The body carries both shapes (RFC 6749 §5.2 and Notion's), with
//! `Cache-Control: no-store`; a 401 carries `WWW-Authenticate: Basic` when the
//! client used Basic. Descriptions are ours, never a library's text (S37).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::ServerError => "server_error",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: OAuthCode,
    pub description: String,
    /// The client authenticated (or tried to) with HTTP Basic.
    pub basic: bool,
    pub status: StatusCode,
    /// Seconds to wait, for a 429.
    pub retry_after: Option<i64>,
}

impl OAuthError {
    pub fn new(code: OAuthCode, description: &str) -> Self {
        let status = match code {
            OAuthCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            code,
            // No quote, backslash, CR or LF in a description (S37).
            description: description.replace(['"', '\\', '\r', '\n'], " "),
            basic: false,
            status,
            retry_after: None,
        }
    }
    /// Too many failures (S54): 429 with `Retry-After`, whatever was sent.
    pub fn throttled(retry_after_s: i64) -> Self {
        let mut e = Self::new(
            OAuthCode::InvalidRequest,
            "too many failed attempts, try again later",
        );
        e.status = StatusCode::TOO_MANY_REQUESTS;
        e.retry_after = Some(retry_after_s.max(1));
        e
    }
    pub fn invalid_request(d: &str) -> Self {
        Self::new(OAuthCode::InvalidRequest, d)
    }
    pub fn invalid_grant(d: &str) -> Self {
        Self::new(OAuthCode::InvalidGrant, d)
    }
    pub fn invalid_client(basic: bool) -> Self {
        let mut e = Self::new(OAuthCode::InvalidClient, "client authentication failed");
        e.basic = basic;
        e
    }
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(m) => OAuthError::invalid_request(&m),
            AppError::Throttled(s) => OAuthError::throttled(s),
            other => {
                let reference = crate::crypto::new_uuid();
                tracing::error!(%reference, error = %other, "oauth request failed");
                OAuthError::new(
                    OAuthCode::ServerError,
                    "the server could not complete the request",
                )
            }
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    error_description: &'a str,
    object: &'static str,
    status: u16,
    code: &'static str,
    message: &'a str,
    request_id: String,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED && self.basic {
            resp.insert_header((
                header::WWW_AUTHENTICATE,
                r#"Basic realm="pagegrant", charset="UTF-8""#,
            ));
        }
        resp.json(Body {
            error: self.code.as_str(),
            error_description: &self.description,
            object: "error",
            status: self.status.as_u16(),
            code: self.code.as_str(),
            message: &self.description,
            request_id: crate::crypto::new_uuid(),
        })
    }
}
