//! Static assets and the OpenAPI document, compiled into the binary: nothing
//! is loaded from elsewhere.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::http::errors::HtmlError;

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../static/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "passkeys.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/passkeys.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
];

fn asset(name: &str) -> Option<HttpResponse> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ctype, body)| {
            HttpResponse::Ok()
                .content_type(*ctype)
                .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
                .body(*body)
        })
}

pub async fn get_static(file: web::Path<String>) -> Result<HttpResponse, HtmlError> {
    asset(&file).ok_or(HtmlError::NotFound)
}

/// The JSON API's OpenAPI 3.1 document, kept beside the code (static/) and
/// checked against the mounted routes by a test.
pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(include_str!("../../static/openapi.json"))
}

pub async fn get_favicon() -> Result<HttpResponse, HtmlError> {
    asset("favicon.svg").ok_or_else(|| AppError::internal("favicon missing").into())
}
