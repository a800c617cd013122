//! The Notion-compatible JSON API under `/v1`: the bearer verifier, users,
//! search, pages and blocks, the per-connection rate limit. Every `/v1/*`
//! failure is JSON in Notion's error shape.

pub mod bearer;
pub mod limit;
pub mod pages;
pub mod users;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web;
    cfg.route("/v1/users/me", web::get().to(users::get_users_me))
        .route("/v1/users/{id}", web::get().to(users::get_user))
        .route("/v1/search", web::post().to(pages::post_search))
        .route("/v1/pages", web::post().to(pages::post_page))
        .route("/v1/pages/{id}", web::get().to(pages::get_page))
        .route("/v1/pages/{id}", web::patch().to(pages::patch_page))
        .route(
            "/v1/blocks/{id}/children",
            web::get().to(pages::get_block_children),
        );
}

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::AppError;

/// Notion's error codes and statuses (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    Unauthorized,
    RestrictedResource,
    ObjectNotFound,
    ValidationError,
    InvalidJson,
    RateLimited,
    InternalServerError,
}

impl ApiCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiCode::Unauthorized => "unauthorized",
            ApiCode::RestrictedResource => "restricted_resource",
            ApiCode::ObjectNotFound => "object_not_found",
            ApiCode::ValidationError => "validation_error",
            ApiCode::InvalidJson => "invalid_json",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::InternalServerError => "internal_server_error",
        }
    }
    pub fn status(self) -> StatusCode {
        match self {
            ApiCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiCode::RestrictedResource => StatusCode::FORBIDDEN,
            ApiCode::ObjectNotFound => StatusCode::NOT_FOUND,
            ApiCode::ValidationError | ApiCode::InvalidJson => StatusCode::BAD_REQUEST,
            ApiCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ApiCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    object: &'static str,
    status: u16,
    code: &'static str,
    message: &'a str,
    request_id: String,
}

impl ApiError {
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn not_found_route() -> Self {
        ApiError::new(ApiCode::ObjectNotFound, "Invalid request URL.")
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => {
                ApiError::new(ApiCode::ObjectNotFound, "Could not find the object.")
            }
            AppError::Invalid(m) | AppError::Conflict(m) => {
                ApiError::new(ApiCode::ValidationError, m)
            }
            AppError::Forbidden(m) => ApiError::new(ApiCode::RestrictedResource, m),
            AppError::Throttled(s) => ApiError {
                code: ApiCode::RateLimited,
                message: "You have been rate limited. Please try again later.".into(),
                retry_after: Some(s.max(1) as u64),
            },
            other => {
                tracing::error!(error = %other, "api request failed");
                ApiError::new(ApiCode::InternalServerError, "Unexpected error.")
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }
    fn error_response(&self) -> HttpResponse {
        let request_id = crate::crypto::new_uuid();
        let body = Body {
            object: "error",
            status: self.code.status().as_u16(),
            code: self.code.as_str(),
            message: &self.message,
            request_id: request_id.clone(),
        };
        let mut resp = HttpResponse::build(self.code.status());
        resp.insert_header(("x-notion-request-id", request_id));
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        resp.json(body)
    }
}
