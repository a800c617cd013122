//! The database: pool setup with SQLite PRAGMAs on every connection, embedded
//! migrations, and `run`, the one way async code reaches a connection. All
//! SQL lives in `queries/`; SQLite-only statements live in this file.

pub mod models;
pub mod queries;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool as R2d2Pool};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseConfig;
use crate::error::{AppError, AppResult};

pub type Conn = SqliteConnection;
pub type Pool = R2d2Pool<ConnectionManager<SqliteConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(Debug)]
struct Pragmas {
    busy_timeout_ms: u32,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL;",
            self.busy_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The SQLite file path named by `database.url` (`sqlite://` prefix allowed).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Opens the pool (creating the file and its directory), switches the file to
/// WAL and runs pending migrations.
pub fn open(cfg: &DatabaseConfig) -> AppResult<Pool> {
    let pool = open_unmigrated(cfg)?;
    migrate(&mut *pool.get()?)?;
    Ok(pool)
}

/// `open` without running migrations (for `pagegrant migrate`, which reports them).
pub fn open_unmigrated(cfg: &DatabaseConfig) -> AppResult<Pool> {
    let path = sqlite_path(&cfg.url);
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| AppError::internal(format!("creating {}: {e}", parent.display())))?;
        }
    }
    let manager = ConnectionManager::<SqliteConnection>::new(path);
    let pool = R2d2Pool::builder()
        .max_size(cfg.pool_size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(Pragmas {
            busy_timeout_ms: cfg.busy_timeout_ms,
        }))
        .build(manager)
        .map_err(|e| AppError::internal(format!("opening database {path}: {e}")))?;
    let mut conn = pool.get()?;
    // WAL is a property of the file, so setting it once is enough.
    conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    drop(conn);
    Ok(pool)
}

/// Runs pending migrations; returns how many ran.
pub fn migrate(conn: &mut Conn) -> AppResult<usize> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| AppError::internal(format!("migrations failed: {e}")))
}

/// Runs `f` on a pooled connection in actix's blocking thread pool.
pub async fn run<F, T>(pool: &Pool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|_| AppError::internal("blocking task was cancelled"))?
}

/// A write transaction taken with `BEGIN IMMEDIATE`, so two writers queue on
/// the busy timeout instead of deadlocking on a lock upgrade. Inside an outer
/// transaction it becomes a savepoint, so services compose.
pub fn write_tx<T, F>(conn: &mut Conn, f: F) -> AppResult<T>
where
    F: FnOnce(&mut Conn) -> AppResult<T>,
{
    write_tx_with(conn, f)
}

/// `write_tx` for any error type (query functions use `QueryResult`).
pub fn write_tx_with<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    if depth.is_some() {
        conn.transaction(f)
    } else {
        conn.immediate_transaction(f)
    }
}

/// True when the database answers a trivial query (for `/healthz`).
pub fn ping(conn: &mut Conn) -> AppResult<()> {
    conn.batch_execute("SELECT 1;")?;
    Ok(())
}

/// Whether a diesel error is a uniqueness violation (a duplicate email, ...).
pub fn is_unique_violation(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

impl From<diesel::ConnectionError> for AppError {
    fn from(e: diesel::ConnectionError) -> Self {
        AppError::internal(format!("database connection: {e}"))
    }
}
