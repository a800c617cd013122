//! `serve` (the default verb): bind, prepare the state, then run the server.

use std::net::TcpListener;

use crate::config::Config;
use crate::domain::demo;
use crate::error::{AppError, AppResult};

/// `serve`: listens first, so a taken port is reported before anything is
/// written, then seeds the demo world when configured and serves until stopped.
pub(super) fn serve(config: Config) -> AppResult<()> {
    let bind = config
        .bind_addr()
        .map_err(|e| AppError::invalid(e.to_string()))?;
    let listener = TcpListener::bind(bind)
        .map_err(|e| AppError::invalid(format!("cannot listen on {bind}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| AppError::internal(format!("listener: {e}")))?;
    let state = crate::build_state(config)?;
    let issuer = state.config.server.issuer.clone();
    let seeded = crate::prepare(&state)?;
    println!(
        "pagegrant {} serving {issuer} (listening on {local})",
        env!("CARGO_PKG_VERSION")
    );
    print_demo_logins(seeded, &issuer, &state.config.database.url);
    let (activity, pool) = (state.activity.clone(), state.pool.clone());
    let served = actix_web::rt::System::new()
        .block_on(async move { crate::run(state, listener)?.await })
        .map_err(|e| AppError::internal(format!("server: {e}")));
    // The server stopped (SIGINT/SIGTERM, graceful): the reads counted since
    // the last flush are written before the process ends.
    let flushed = pool
        .get()
        .map_err(AppError::from)
        .and_then(|mut c| crate::domain::activity::flush(&mut c, &activity));
    if let Err(e) = flushed {
        eprintln!("writing connection activity at shutdown failed: {e}");
    }
    served
}

/// With the demo world in the database, how to log in to it.
fn print_demo_logins(seeded: Option<demo::Outcome>, issuer: &str, database_url: &str) {
    match seeded {
        Some(demo::Outcome::Seeded) => {
            println!("Seeded the demo world into {database_url}.");
        }
        Some(demo::Outcome::AlreadySeeded) => {}
        Some(demo::Outcome::NotEmpty) | None => return,
    }
    println!("Log in at {issuer}/login with a demo account:");
    for l in demo::logins() {
        println!("  {:<20} password {:<16} {}", l.email, l.password, l.role);
    }
}
