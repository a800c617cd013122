//! `run` serves the state on a listener: the middleware, wired once, and the
//! one route table. Every path the server answers is listed here, so finding
//! the handler for a URL is one search.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::{web, App, HttpServer};

use crate::http::errors::{self, Shape};
use crate::http::{assets, headers, nul, ops};
use crate::pages::{
    access, account, consent, demo_partner, developers, home, invite, login, page_menu, passkeys,
    settings_activity, settings_audit, settings_connections, settings_enterprise, settings_members,
    two_step, workspace,
};
use crate::state::AppState;
use crate::{api, oauth};

/// Serves `state` on `listener`. Must be called inside an actix system.
pub fn run(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let workers = match state.config.server.workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        n => n as usize,
    };
    let blocking_threads = db_threads(&state.config.database, workers);
    if state.config.registration.cimd_dev_loopback {
        tracing::warn!(
            "registration.cimd_dev_loopback is ON: client metadata documents are fetched from \
             http://127.0.0.1 and http://localhost. This is for development and tests only; \
             turn it off in production"
        );
    }
    let state = web::Data::new(state);
    actix_web::rt::spawn(purge_unused_clients(state.clone()));
    actix_web::rt::spawn(keep_activity(state.clone()));
    actix_web::rt::spawn(keep_wal_short(state.clone()));
    let metrics = Arc::new(state.metrics.clone());
    let issuer = state.config.server.issuer.clone();
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new()
            .app_data(state.clone())
            .app_data(web::QueryConfig::default().error_handler(|e, req| {
                Shape::of(req.path()).bad_request(
                    format!("The address has a bad query: {e}"),
                    format!("query failed validation: {e}"),
                )
            }))
            .app_data(web::PathConfig::default().error_handler(|_, req| {
                match Shape::of(req.path()) {
                    Shape::Html => Shape::Html.not_found(),
                    other => other.bad_request(String::new(), "path failed validation".into()),
                }
            }))
            .wrap(actix_web::middleware::from_fn(nul::reject_nul))
            .wrap(actix_web::middleware::from_fn(errors::json_errors))
            .wrap(headers::security_headers())
            .wrap_fn(move |req, srv| {
                let start = Instant::now();
                let method = req.method().clone();
                let metrics = metrics.clone();
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    // Route patterns only (a closed set: the route table's):
                    // raw paths and queries may carry codes or tokens.
                    let route = res.request().match_pattern();
                    let status = res.status().as_u16();
                    metrics.observe(&method, route.as_deref(), status, start.elapsed());
                    let method = crate::state::metrics::method_label(&method);
                    tracing::debug!(%method, ?route, status, ms = start.elapsed().as_millis() as u64, "request");
                    Ok(res)
                }
            })
            .configure(|cfg| routes(cfg, &issuer))
            .default_service(web::to(crate::http::errors::not_found))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Threads per HTTP worker that run its `db::run` work (actix's blocking
/// pool, 512 shared among the workers unless told). SQLite's work is CPU in
/// this process: past a couple of threads per core they only take turns,
/// and every request woke a thread of its own (two context switches each),
/// while threads beyond the pool's connections waited in `r2d2`. With two,
/// whatever queued while both were busy runs back to back on a thread that
/// is already awake, and one thread waiting on the write lock does not stop
/// the other. PostgreSQL's work waits on the network, so there each of the
/// pool's connections gets a thread.
fn db_threads(cfg: &crate::config::DatabaseConfig, workers: usize) -> usize {
    let workers = workers.max(1);
    match (cfg.threads, crate::db::Backend::of(&cfg.url)) {
        (0, crate::db::Backend::Sqlite) => 2,
        (0, crate::db::Backend::Postgres) => (cfg.pool_size as usize).div_ceil(workers).max(2),
        (n, _) => n as usize,
    }
}

/// Deletes unused dynamic and CIMD clients every
/// `registration.purge_interval_s`, for as long as the server runs: the
/// bound on the table must not depend on someone registering (S71).
async fn purge_unused_clients(state: web::Data<AppState>) {
    let every =
        std::time::Duration::from_secs(state.config.registration.purge_interval_s.max(1) as u64);
    let mut tick = actix_web::rt::time::interval(every);
    loop {
        tick.tick().await;
        let st = state.clone();
        match crate::db::run(&state.pool, move |c| {
            crate::domain::registration::purge(c, &st.config)
        })
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(clients = n, "purged unused self-registered clients"),
            Err(e) => tracing::warn!(error = %e, "purging unused clients failed"),
        }
    }
}

/// Every 50 ms, for as long as the server runs: a passive
/// checkpoint on SQLite (`db::checkpoint`), off the grant writer's path.
async fn keep_wal_short(state: web::Data<AppState>) {
    if crate::db::Backend::of(&state.config.database.url) != crate::db::Backend::Sqlite {
        return;
    }
    let mut tick = actix_web::rt::time::interval(std::time::Duration::from_millis(50));
    loop {
        tick.tick().await;
        let done = crate::db::run(&state.pool, |c| Ok(crate::db::checkpoint(c)?)).await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "checkpointing the WAL failed");
        }
    }
}

/// Every `agents.activity_flush_s`, for as long as the server runs: writes
/// the page reads counted in memory (one upsert per page, op and hour) and
/// deletes activity older than `agents.activity_days`, so the table stays
/// bounded (`domain::activity`).
async fn keep_activity(state: web::Data<AppState>) {
    let every = std::time::Duration::from_secs(state.config.agents.activity_flush_s.max(1) as u64);
    let mut tick = actix_web::rt::time::interval(every);
    loop {
        tick.tick().await;
        let st = state.clone();
        let done = crate::db::run(&state.pool, move |c| {
            let flushed = crate::domain::activity::flush(c, &st.activity)?;
            Ok((flushed, crate::domain::activity::purge(c, &st.config)?))
        })
        .await;
        match done {
            Ok((flushed, purged)) => {
                if flushed.dropped > 0 {
                    tracing::warn!(
                        reads = flushed.dropped,
                        "activity buffer full: reads not counted"
                    );
                }
                if purged > 0 {
                    tracing::info!(rows = purged, "purged old connection activity");
                }
            }
            Err(e) => tracing::warn!(error = %e, "writing connection activity failed"),
        }
    }
}

/// Every route. HTML handlers are `view_<page>_get|post`, JSON ones
/// `<verb>_<resource>` (STYLE rule 12).
pub fn routes(cfg: &mut web::ServiceConfig, issuer: &str) {
    // Plumbing: health, metrics, assets.
    cfg.route("/healthz", web::get().to(ops::get_healthz))
        .route("/metrics", web::get().to(ops::get_metrics))
        .route("/favicon.ico", web::get().to(assets::get_favicon))
        .route("/openapi.json", web::get().to(assets::get_openapi))
        .route("/static/{file}", web::get().to(assets::get_static));

    // The machine-facing routes come first: actix tries resources in the
    // order they were added, testing each dynamic one with a regex, and
    // these carry nearly all the traffic.
    // OAuth: the consent page, then the JSON endpoints; other methods on
    // those get a 405 in the OAuth error shape (S24).
    cfg.route(
        "/v1/oauth/authorize",
        web::get().to(consent::view_authorize_get),
    )
    .route(
        "/v1/oauth/authorize",
        web::post().to(consent::view_authorize_post),
    );
    cfg.service(
        web::resource("/v1/oauth/token")
            .route(web::post().to(oauth::post_token))
            .default_service(web::to(oauth::method_not_allowed)),
    )
    .service(
        web::resource("/v1/oauth/introspect")
            .route(web::post().to(oauth::post_introspect))
            .default_service(web::to(oauth::method_not_allowed)),
    )
    .service(
        web::resource("/v1/oauth/register")
            .route(web::post().to(oauth::register::post_register))
            .default_service(web::to(oauth::method_not_allowed)),
    )
    .service(
        web::resource("/v1/oauth/register/{client_id}")
            .route(web::get().to(oauth::register::get_registration))
            .route(web::put().to(oauth::register::put_registration))
            .route(web::delete().to(oauth::register::delete_registration))
            .default_service(web::to(oauth::method_not_allowed)),
    )
    .service(
        web::resource("/v1/oauth/revoke")
            .route(web::post().to(oauth::post_revoke))
            .default_service(web::to(oauth::method_not_allowed)),
    );
    cfg.route(
        "/.well-known/oauth-authorization-server",
        web::get().to(oauth::get_metadata),
    )
    .route("/.well-known/jwks.json", web::get().to(oauth::get_jwks))
    .route(
        "/.well-known/oauth-protected-resource/v1",
        web::get().to(oauth::get_protected_resource_v1),
    )
    .route(
        "/.well-known/oauth-protected-resource/mcp",
        web::get().to(oauth::get_protected_resource_mcp),
    );

    // The MCP server (DESIGN §7): `/mcp`, its bearer check, then rmcp's
    // Streamable HTTP transport (POST; GET and DELETE answer 405).
    crate::mcp::mount(cfg, issuer);

    // The Notion-compatible API.
    cfg.route("/v1/users/me", web::get().to(api::users::get_users_me))
        .route("/v1/users/{id}", web::get().to(api::users::get_user))
        .route("/v1/search", web::post().to(api::pages::post_search))
        .route(
            "/v1/access_requests",
            web::post().to(api::access_requests::post_access_request),
        )
        .route(
            "/v1/access_requests/{id}",
            web::get().to(api::access_requests::get_access_request),
        )
        .route("/v1/pages", web::post().to(api::pages::post_page))
        .route("/v1/pages/{id}", web::get().to(api::pages::get_page))
        .route("/v1/pages/{id}", web::patch().to(api::pages::patch_page))
        .route(
            "/v1/blocks/{id}/children",
            web::get().to(api::blocks::get_block_children),
        )
        .route(
            "/v1/blocks/{id}/children",
            web::patch().to(api::blocks::patch_block_children),
        )
        .route("/v1/blocks/{id}", web::get().to(api::blocks::get_block))
        .route("/v1/blocks/{id}", web::patch().to(api::blocks::patch_block))
        .route(
            "/v1/blocks/{id}",
            web::delete().to(api::blocks::delete_block),
        );

    // Pages people use.
    cfg.route("/", web::get().to(home::view_home_get))
        .route("/login", web::get().to(login::view_login_get))
        .route("/login", web::post().to(login::view_login_post))
        .route("/logout", web::post().to(login::view_logout_post))
        // My account (issue 28): sessions, the password, Confirm it's you.
        .route("/account", web::get().to(account::view_account_get))
        .route(
            "/account/sessions",
            web::get().to(account::view_sessions_get),
        )
        .route(
            "/account/sessions/end-others",
            web::post().to(account::view_end_others_post),
        )
        .route(
            "/account/sessions/{handle}/end",
            web::post().to(account::view_session_end_post),
        )
        .route(
            "/account/password",
            web::post().to(account::view_password_post),
        )
        .route("/account/reauth", web::get().to(account::view_reauth_get))
        .route("/account/reauth", web::post().to(account::view_reauth_post))
        .route(
            "/login/passkey/options",
            web::post().to(passkeys::post_login_passkey_options),
        )
        .route(
            "/login/passkey",
            web::post().to(passkeys::post_login_passkey),
        )
        .route(
            "/account/passkeys",
            web::get().to(passkeys::view_passkeys_get),
        )
        .route(
            "/account/passkeys",
            web::post().to(passkeys::post_passkey_add),
        )
        .route(
            "/account/passkeys/options",
            web::post().to(passkeys::post_passkey_options),
        )
        .route(
            "/account/passkeys/{id}/remove",
            web::get().to(passkeys::view_passkey_remove_get),
        )
        .route(
            "/account/passkeys/password",
            web::post().to(passkeys::view_password_sign_in_post),
        )
        .route(
            "/account/reauth/passkey/options",
            web::post().to(account::post_reauth_passkey_options),
        )
        .route(
            "/account/reauth/passkey",
            web::post().to(account::post_reauth_passkey),
        )
        .route(
            "/login/two-step/passkey/options",
            web::post().to(two_step::post_second_step_passkey_options),
        )
        .route(
            "/login/two-step/passkey",
            web::post().to(two_step::post_second_step_passkey),
        )
        .route(
            "/account/passkeys/{id}/remove",
            web::post().to(passkeys::view_passkey_remove_post),
        )
        .route(
            "/login/two-step",
            web::get().to(two_step::view_second_step_get),
        )
        .route(
            "/login/two-step",
            web::post().to(two_step::view_second_step_post),
        )
        .route(
            "/account/two-step",
            web::get().to(two_step::view_two_step_get),
        )
        .route(
            "/account/two-step",
            web::post().to(two_step::view_two_step_post),
        )
        .route(
            "/w/{workspace_id}",
            web::get().to(workspace::view_workspace_get),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}",
            web::get().to(workspace::view_page_get),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}/connections/add",
            web::get().to(page_menu::view_page_connection_add_get),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}/connections/add",
            web::post().to(page_menu::view_page_connection_add_post),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}/connections/remove",
            web::get().to(page_menu::view_page_connection_remove_get),
        )
        .route(
            "/w/{workspace_id}/p/{page_id}/connections/remove",
            web::post().to(page_menu::view_page_connection_remove_post),
        );
    cfg.route(
        "/w/{workspace_id}/settings/connections",
        web::get().to(settings_connections::view_connections_get),
    )
    .route(
        "/w/{workspace_id}/settings/connections/internal",
        web::post().to(settings_connections::view_internal_post),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/disconnect",
        web::get().to(settings_connections::view_disconnect_get),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/disconnect",
        web::post().to(settings_connections::view_disconnect_post),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/token",
        web::get().to(settings_connections::view_token_get),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/token",
        web::post().to(settings_connections::view_token_post),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/activity",
        web::get().to(settings_activity::view_activity_get),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/activity.csv",
        web::get().to(settings_activity::get_activity_csv),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/users",
        web::get().to(settings_connections::view_users_get),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/access",
        web::get().to(access::view_access_get),
    )
    .route(
        "/w/{workspace_id}/settings/connections/{connection_id}/access",
        web::post().to(access::view_access_post),
    )
    .route(
        "/w/{workspace_id}/settings/clients/{integration_id}/block",
        web::get().to(settings_connections::view_block_get),
    )
    .route(
        "/w/{workspace_id}/settings/clients/{integration_id}/block",
        web::post().to(settings_connections::view_block_post),
    )
    .route(
        "/w/{workspace_id}/settings/clients/{integration_id}/unblock",
        web::post().to(settings_connections::view_unblock_post),
    )
    .route(
        "/w/{workspace_id}/settings/enterprise",
        web::post().to(settings_enterprise::view_enterprise_post),
    )
    .route(
        "/w/{workspace_id}/approval-requests",
        web::post().to(consent::view_request_approval_post),
    )
    .route(
        "/w/{workspace_id}/approval-requests/{integration_id}",
        web::get().to(consent::view_request_approval_get),
    )
    .route(
        "/w/{workspace_id}/settings/enterprise/disconnect-all",
        web::get().to(settings_enterprise::view_disconnect_all_get),
    )
    .route(
        "/w/{workspace_id}/settings/audit",
        web::get().to(settings_audit::view_audit_get),
    )
    .route(
        "/w/{workspace_id}/settings/audit.csv",
        web::get().to(settings_audit::get_audit_csv),
    )
    .route(
        "/w/{workspace_id}/settings/members",
        web::get().to(settings_members::view_members_get),
    )
    .route(
        "/w/{workspace_id}/settings/members",
        web::post().to(settings_members::view_members_post),
    )
    .route(
        "/w/{workspace_id}/settings/members/{user_id}/role",
        web::post().to(settings_members::view_role_post),
    )
    .route(
        "/w/{workspace_id}/settings/members/{user_id}/remove",
        web::get().to(settings_members::view_remove_get),
    )
    .route(
        "/w/{workspace_id}/settings/members/{user_id}/remove",
        web::post().to(settings_members::view_remove_post),
    );
    // Invitations (issue 27 item 5): revoking one, and the sign-up page
    // behind its link.
    cfg.route(
        "/w/{workspace_id}/settings/members/invitations/{invitation_id}/revoke",
        web::post().to(settings_members::view_revoke_invitation_post),
    )
    .route("/invite/{token}", web::get().to(invite::view_invite_get))
    .route("/invite/{token}", web::post().to(invite::view_invite_post));
    // Page access requests (issue 29 item 1): an agent's request, answered
    // by the person who connected it or an owner.
    cfg.route(
        "/requests/{id}",
        web::get().to(crate::pages::requests::view_request_get),
    )
    .route(
        "/requests/{id}",
        web::post().to(crate::pages::requests::view_request_post),
    );
    cfg.route(
        "/developers",
        web::get().to(developers::view_developers_get),
    )
    .route(
        "/developers",
        web::post().to(developers::view_developers_post),
    )
    .route(
        "/developers/{id}",
        web::get().to(developers::view_integration_get),
    )
    .route(
        "/developers/{id}/redirect-uris",
        web::post().to(developers::view_redirect_uris_post),
    )
    .route(
        "/developers/{id}/rotate",
        web::get().to(developers::view_rotate_get),
    )
    .route(
        "/developers/{id}/rotate",
        web::post().to(developers::view_rotate_post),
    )
    .route(
        "/developers/{id}/token",
        web::post().to(developers::view_token_post),
    )
    .route(
        "/developers/{id}/access",
        web::post().to(developers::view_access_post),
    )
    .route(
        "/developers/{id}/delete",
        web::get().to(developers::view_delete_get),
    )
    .route(
        "/developers/{id}/delete",
        web::post().to(developers::view_delete_post),
    );
    cfg.route(
        "/demo/partner",
        web::get().to(demo_partner::view_partner_get),
    )
    .route(
        "/demo/partner/start",
        web::get().to(demo_partner::view_partner_start_get),
    )
    .route(
        "/demo/partner/callback",
        web::get().to(demo_partner::view_partner_callback_get),
    );
}
