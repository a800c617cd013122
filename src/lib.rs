//! pagegrant: an OAuth 2.0 authorization server with page-scoped consent and
//! the workspace administration around it. `build_state` opens everything a
//! server needs; `run` serves it on a listener (main and the tests both use it).

pub mod accounts;
pub mod api;
pub mod cli;
pub mod config;
pub mod consent;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod developers;
pub mod error;
pub mod integrations;
pub mod keys;
pub mod oauth;
pub mod web;
pub mod workspace;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::{web as aweb, App, HttpServer};

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::error::AppResult;
use crate::web::errors::HtmlError;
use crate::web::metrics::Metrics;

/// Shared by every request; cheap to clone pieces out of.
pub struct AppState {
    pub config: Config,
    pub pool: db::Pool,
    pub secret_box: SecretBox,
    pub metrics: Metrics,
    pub keys: oauth::jwt::Keys,
    pub limiter: Option<api::limit::Limiter>,
}

/// Opens the database (migrating it) and loads the keys under `data_dir`.
pub fn build_state(config: Config) -> AppResult<AppState> {
    std::fs::create_dir_all(&config.server.data_dir).map_err(|e| {
        error::AppError::internal(format!(
            "creating {}: {e}",
            config.server.data_dir.display()
        ))
    })?;
    let pool = db::open(&config.database)?;
    let (secret_box, keys) = keys::load(&mut *pool.get()?, &config)?;
    Ok(AppState {
        keys,
        limiter: api::limit::Limiter::new(&config.api),
        config,
        pool,
        secret_box,
        metrics: Metrics::new()?,
    })
}

/// Start-up work on the database before serving: seed the demo world into an
/// empty database when `demo.seed` is on, and point the demo partner at the
/// configured issuer.
pub fn prepare(state: &AppState) -> AppResult<Option<demo::Outcome>> {
    let issuer = &state.config.server.issuer;
    let mut conn = state.pool.get()?;
    let seeded = if state.config.demo.seed {
        Some(demo::seed(&mut conn, &state.secret_box, issuer)?)
    } else {
        None
    };
    demo::refresh_partner(&mut conn, issuer)?;
    Ok(seeded)
}

/// Serves `state` on `listener`. Must be called inside an actix system.
pub fn run(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let workers = match state.config.server.workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        n => n as usize,
    };
    let state = aweb::Data::new(state);
    let metrics = Arc::new(state.metrics.clone());
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new()
            .app_data(state.clone())
            .app_data(aweb::FormConfig::default().limit(64 * 1024).error_handler(|e, _| {
                HtmlError::BadRequest(format!("The form could not be read: {e}")).into()
            }))
            .app_data(aweb::QueryConfig::default().error_handler(|e, req| {
                if req.path().starts_with("/v1/") {
                    api::ApiError::new(api::ApiCode::ValidationError, format!("query failed validation: {e}")).into()
                } else {
                    HtmlError::BadRequest(format!("The address has a bad query: {e}")).into()
                }
            }))
            .app_data(aweb::PathConfig::default().error_handler(|_, req| {
                if req.path().starts_with("/v1/") {
                    api::ApiError::new(api::ApiCode::ValidationError, "path failed validation").into()
                } else {
                    HtmlError::NotFound.into()
                }
            }))
            .wrap(actix_web::middleware::from_fn(web::nul::reject_nul))
            .wrap(web::headers::security_headers())
            .wrap_fn(move |req, srv| {
                let start = Instant::now();
                let method = req.method().to_string();
                let metrics = metrics.clone();
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    let route = res
                        .request()
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".to_string());
                    let status = res.status().as_u16();
                    metrics.observe(&method, &route, status, start.elapsed());
                    // Route patterns only: raw paths and queries may carry codes or tokens.
                    tracing::debug!(%method, %route, status, ms = start.elapsed().as_millis() as u64, "request");
                    Ok(res)
                }
            })
            .configure(web::routes)
            .configure(workspace::routes)
            .configure(developers::routes)
            .configure(consent::routes)
            .configure(oauth::routes)
            .configure(api::routes)
            .configure(demo::partner::routes)
            .default_service(aweb::to(web::errors::not_found))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
