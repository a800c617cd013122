//! What operators poll: `/healthz` (the database answers) and `/metrics`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::crypto;
use crate::db;
use crate::http::errors::HtmlError;
use crate::state::AppState;

pub async fn get_healthz(state: web::Data<AppState>) -> HttpResponse {
    match db::run(&state.pool, db::ping).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}))
        }
    }
}

/// With `metrics.token` set, only `Authorization: Bearer <token>` reads the
/// metrics (compared in constant time); anything else is 401.
pub async fn get_metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    let expected = &state.config.metrics.token;
    if !expected.is_empty() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Hashes first, so the comparison does not leak the token's length either.
        if !crypto::constant_time_eq(&crypto::sha256_hex(given), &crypto::sha256_hex(expected)) {
            return Ok(HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
                .content_type("text/plain; charset=utf-8")
                .body("metrics need the configured bearer token\n"));
        }
    }
    let body = state
        .metrics
        .render(&state.pool, &state.trees)
        .map_err(HtmlError::from)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
