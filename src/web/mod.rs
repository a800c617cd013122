//! HTTP plumbing shared by every page: sessions, CSRF, headers, errors,
//! metrics, static assets, and the routes that belong to no domain
//! (`/`, `/login`, `/logout`, `/healthz`, `/metrics`, `/static`).

pub mod csrf;
pub mod errors;
pub mod headers;
pub mod metrics;
pub mod nul;
pub mod session;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::queries::workspaces;
use crate::db::{self};
use crate::error::AppError;
use crate::web::errors::HtmlError;
use crate::web::session::CurrentUser;
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(view_home_get))
        .route("/login", web::get().to(session::view_login_get))
        .route("/login", web::post().to(session::view_login_post))
        .route("/logout", web::post().to(session::view_logout_post))
        .route("/healthz", web::get().to(get_healthz))
        .route("/metrics", web::get().to(get_metrics))
        .route("/favicon.ico", web::get().to(get_favicon))
        .route("/openapi.json", web::get().to(get_openapi))
        .route("/static/{file}", web::get().to(get_static));
}

#[derive(Template)]
#[template(path = "no_workspace.html")]
pub struct NoWorkspaceView {
    pub user_name: String,
    pub csrf: String,
}

/// `/`: a logged-in user lands in their first workspace.
async fn view_home_get(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let uid = user.user.id.clone();
    let list = db::run(&state.pool, move |c| Ok(workspaces::for_user(c, &uid)?)).await?;
    match list.first() {
        Some((ws, _)) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/w/{}", ws.id)))
            .finish()),
        None => {
            let view = NoWorkspaceView {
                user_name: user.user.name.clone(),
                csrf: user.csrf().to_string(),
            };
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(view.render()?))
        }
    }
}

async fn get_healthz(state: web::Data<AppState>) -> HttpResponse {
    match db::run(&state.pool, db::ping).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}))
        }
    }
}

async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let body = state.metrics.render(&state.pool).map_err(HtmlError::from)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// Assets are compiled into the binary: nothing is loaded from elsewhere.
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

async fn get_static(file: web::Path<String>) -> Result<HttpResponse, HtmlError> {
    asset(&file).ok_or(HtmlError::NotFound)
}

/// The JSON API's OpenAPI 3.1 document, kept beside the code (static/) and
/// checked against the mounted routes by a test.
async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(include_str!("../../static/openapi.json"))
}

async fn get_favicon() -> Result<HttpResponse, HtmlError> {
    asset("favicon.svg").ok_or_else(|| AppError::internal("favicon missing").into())
}
