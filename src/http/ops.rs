//! What operators poll: `/healthz` (the database answers) and `/metrics`.

use actix_web::{web, HttpResponse};

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

pub async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let body = state.metrics.render(&state.pool).map_err(HtmlError::from)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
