//! `AppState`, shared by every request, and what opens it: the database
//! (migrated), the keys under `data_dir`, metrics and the API rate limiter.
//! A low layer: everything here is built from `domain/`, `db/` and below, so
//! `http/` and every handler can take the state without an import running
//! back up. The process-wide parts it holds live beside it: the token keys
//! (`jwt`, `keys`), the API rate limiter (`limit`) and the metrics; the
//! password pool and the CIMD cache are `domain` types it holds.

pub mod jwt;
pub mod keys;
pub mod limit;
pub mod metrics;

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db;
use crate::domain::accounts::PasswordPool;
use crate::domain::{activity, cimd, demo};
use crate::error::{AppError, AppResult};
use jwt::Keys;
use limit::Limiter;
use metrics::Metrics;

/// Shared by every request; cheap to clone pieces out of.
pub struct AppState {
    pub config: Config,
    pub pool: db::Pool,
    pub secret_box: SecretBox,
    pub metrics: Metrics,
    pub keys: Keys,
    pub limiter: Option<Limiter>,
    /// Client metadata documents checked for people not yet logged in,
    /// held in memory (per instance, bounded) until someone logs in, so a
    /// document is fetched once and nothing is stored for an anonymous
    /// request (S71).
    pub cimd_seen: cimd::Seen,
    /// The threads that check passwords (`domain::accounts::sign_in`).
    pub passwords: PasswordPool,
    /// Connections' page reads, counted in memory until the next flush
    /// (`domain::activity`).
    pub activity: activity::Buffer,
    /// The one writer that commits grants in batches (`db::group`).
    pub grants: db::group::GroupWriter,
    /// The page picker's trees, one per workspace, re-read when the
    /// workspace's `tree_version` moves (`domain::tree_cache`).
    pub trees: crate::domain::tree_cache::TreeCache,
}

/// Opens the database (migrating it) and loads the keys under `data_dir`.
pub fn build_state(config: Config) -> AppResult<AppState> {
    std::fs::create_dir_all(&config.server.data_dir).map_err(|e| {
        AppError::internal(format!(
            "creating {}: {e}",
            config.server.data_dir.display()
        ))
    })?;
    let pool = db::open(&config.database)?;
    let (secret_box, keys) = keys::load(&mut *pool.get()?, &config)?;
    let metrics = Metrics::new()?;
    let batches = metrics.clone();
    let grants = db::group::GroupWriter::start(
        pool.clone(),
        db::Backend::of(&config.database.url),
        move |n| batches.observe_grant_batch(n),
    )?;
    Ok(AppState {
        keys,
        limiter: Limiter::new(&config.api),
        config,
        pool,
        secret_box,
        metrics,
        grants,
        cimd_seen: cimd::Seen::default(),
        passwords: PasswordPool::default(),
        activity: activity::Buffer::default(),
        trees: Default::default(),
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
