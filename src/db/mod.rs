//! The database: one connection type over two backends (SQLite, embedded and
//! the default; PostgreSQL when `database.url` is `postgres://…`, with the
//! `postgres` cargo feature), the pool, embedded migrations for each, and
//! `run`, the one way async code reaches a connection. All SQL lives in
//! `queries/`, written in diesel's DSL against `schema.rs` (which
//! `schema_check` tests against both backends' migrations) except where
//! the DSL cannot say it (recursive queries, full-text search), whose
//! per-backend texts are constants beside their query; what differs
//! between the backends otherwise (PRAGMAs, `BEGIN IMMEDIATE`, upserts,
//! picking a backend's text) lives in this file.

/// Runs a query on the backend's own connection rather than through
/// `DbConn`: `native!(conn, |c| query.first(c))`. diesel's multi-connection
/// wrapper renders a query's whole SQL text on every call (to ask whether
/// it may be cached), even when its prepared statement is cached already;
/// on the backend's own connection a query of a static type is found in
/// the statement cache by its type alone. That rendering was a tenth of a
/// token exchange's CPU time, so the queries of the hot paths (the bearer
/// check, the token endpoint, consent) go through here. The body is
/// type-checked once per backend.
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use native;

pub mod group;
pub mod models;
pub mod prepared;
pub mod queries;
pub mod schema;
#[cfg(test)]
mod schema_check;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool as R2d2Pool, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel::QueryResult;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseConfig;
use crate::error::{AppError, AppResult};

/// A connection to whichever backend `database.url` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    #[cfg(feature = "postgres")]
    Pg(diesel::PgConnection),
}

pub type Conn = DbConn;
pub type Pool = R2d2Pool<Manager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a `database.url` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The SQLite file path named by `database.url` (`sqlite://` prefix allowed).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Opens connections of the backend the URL names, SQLite ones with their
/// PRAGMAs (foreign keys are off by default there, and every connection
/// needs its own busy timeout).
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
    busy_timeout_ms: u32,
}

impl Manager {
    fn connect_db(&self) -> Result<DbConn, diesel::r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                private_file(sqlite_path(&self.url)).map_err(|e| {
                    diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                        e.to_string(),
                    ))
                })?;
                let mut c = SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                c.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL; \
                     PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};",
                    self.busy_timeout_ms
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(DbConn::Pg)
                .map_err(diesel::r2d2::Error::ConnectionError),
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "this pagegrant was built without the `postgres` feature".into(),
                ),
            )),
        }
    }
}

/// WAL pages past which a committing connection checkpoints on its own
/// (SQLite's default is 1,000). The server checkpoints in the background
/// (`checkpoint`), so that a commit of the grant writer, which every token
/// request waits on, does not also copy the WAL into the database and
/// sync it (a tenth of a token exchange's time at SQLite's default); this
/// is the bound for when the background cannot keep up, and for the CLI.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// Copies what the WAL holds into the database file without waiting for
/// readers or writers (`PASSIVE`), so the WAL stays short; the server runs
/// it every 50 ms (`server::keep_wal_short`). Nothing on
/// PostgreSQL.
pub fn checkpoint(conn: &mut Conn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);"),
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => Ok(()),
    }
}

/// One connection outside the pool (tools, tests), set up like pooled ones.
pub fn connect(url: &str) -> AppResult<DbConn> {
    let m = Manager {
        url: url.to_string(),
        backend: Backend::of(url),
        busy_timeout_ms: 5000,
    };
    m.connect_db()
        .map_err(|e| AppError::internal(format!("connecting to {}: {e}", redacted(url))))
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.connect_db()
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        match conn {
            // An embedded database cannot lose its connection, so the
            // `SELECT 1` r2d2 runs on every checkout would only cost time.
            DbConn::Sqlite(_) => Ok(()),
            #[cfg(feature = "postgres")]
            DbConn::Pg(_) => conn.ping().map_err(diesel::r2d2::Error::QueryError),
        }
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || R2D2Connection::is_broken(conn)
    }
}

/// Opens the pool (creating the SQLite file and its directory), switches a
/// SQLite file to WAL and runs pending migrations.
pub fn open(cfg: &DatabaseConfig) -> AppResult<Pool> {
    let pool = open_unmigrated(cfg)?;
    migrate(&mut *pool.get()?)?;
    Ok(pool)
}

/// `open` without running migrations (for `pagegrant migrate`, which reports them).
pub fn open_unmigrated(cfg: &DatabaseConfig) -> AppResult<Pool> {
    let backend = Backend::of(&cfg.url);
    if backend == Backend::Sqlite {
        let path = sqlite_path(&cfg.url);
        if let Some(parent) = Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    AppError::internal(format!("creating {}: {e}", parent.display()))
                })?;
            }
        }
    }
    let manager = Manager {
        url: cfg.url.clone(),
        backend,
        busy_timeout_ms: cfg.busy_timeout_ms,
    };
    let pool = R2d2Pool::builder()
        .max_size(cfg.pool_size)
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| AppError::internal(format!("opening database {}: {e}", redacted(&cfg.url))))?;
    if backend == Backend::Sqlite {
        // WAL is a property of the file, so setting it once is enough.
        pool.get()?.batch_execute("PRAGMA journal_mode = WAL;")?;
        // SQLite gives -wal and -shm the main file's mode; made sure of here
        // for files an older version left readable by all.
        let path = sqlite_path(&cfg.url);
        for suffix in ["", "-wal", "-shm"] {
            restrict(Path::new(&format!("{path}{suffix}")))?;
        }
    }
    Ok(pool)
}

/// Creates the SQLite file `path` readable by its owner only (0600) before
/// SQLite opens it: it holds password hashes, emails and session secrets,
/// and SQLite would create it 0644 under the usual umask (issue 15 #14).
/// An existing file is left as it is here (`open` narrows it); in-memory
/// and `file:` URIs are SQLite's business.
fn private_file(path: &str) -> std::io::Result<()> {
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Narrows an existing file to its owner (0600); a missing file is fine.
fn restrict(path: &Path) -> AppResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(AppError::internal(format!(
                    "restricting {}: {e}",
                    path.display()
                )))
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A database URL fit for a message: without its password.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Runs pending migrations; returns how many ran.
pub fn migrate(conn: &mut Conn) -> AppResult<usize> {
    let ran = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
    };
    ran.map_err(|e| AppError::internal(format!("migrations failed: {e}")))
}

/// Runs `f` on a pooled connection in actix's blocking thread pool.
pub async fn run<F, T>(pool: &Pool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    run_with(pool, f).await
}

/// `run` for a closure that fails with a response error of its own (a
/// handler whose refusals after the first lookup are its surface's, such as
/// a malformed body judged once the grant was), which `AppError` converts to.
pub async fn run_with<F, T, E>(pool: &Pool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<AppError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(AppError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|_| AppError::internal("blocking task was cancelled"))?
}

/// A write transaction. On SQLite it is taken with `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of deadlocking on a lock
/// upgrade; PostgreSQL takes row locks as statements run, and the single-use
/// steps are conditional UPDATEs, exact under concurrency there too. Inside
/// an outer transaction it becomes a savepoint, so services compose.
pub fn write_tx<T, F>(conn: &mut Conn, f: F) -> AppResult<T>
where
    F: FnOnce(&mut Conn) -> AppResult<T>,
{
    write_tx_with(conn, f)
}

/// `write_tx` that also commits when `f` refuses (`AppError::Refused`):
/// what it wrote before refusing stays, such as a wrong secret's count in
/// the client throttle (S54) or a replayed code's revoked tokens (S29).
/// Any other error rolls back.
pub fn write_tx_refusing<T, F>(conn: &mut Conn, f: F) -> AppResult<T>
where
    F: FnOnce(&mut Conn) -> AppResult<T>,
{
    // The refusal leaves the transaction as its value, so it commits.
    write_tx(conn, |c| {
        let out = f(c);
        match out {
            Ok(_) | Err(AppError::Refused(_)) => Ok(out),
            Err(e) => Err(e),
        }
    })?
}

/// `write_tx_refusing`, unless the caller already holds a transaction:
/// then `f` runs in it. For a grant's steps (client authentication, the
/// grant itself), which on SQLite run inside the grant writer's savepoint
/// (`db::group`; it keeps a refusal's writes and rolls back on anything
/// else, as this would, so a savepoint of their own would be two more
/// statements that change nothing) and on PostgreSQL, where the writer
/// hands them to the pool outside any transaction, each in a transaction
/// of its own.
pub fn write_tx_refusing_or_held<T, F>(conn: &mut Conn, f: F) -> AppResult<T>
where
    F: FnOnce(&mut Conn) -> AppResult<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let held = match conn {
        DbConn::Sqlite(inner) => AnsiTransactionManager::transaction_manager_status_mut(inner)
            .transaction_depth()?
            .is_some(),
        #[cfg(feature = "postgres")]
        DbConn::Pg(inner) => AnsiTransactionManager::transaction_manager_status_mut(inner)
            .transaction_depth()?
            .is_some(),
    };
    match held {
        true => f(conn),
        false => write_tx_refusing(conn, f),
    }
}

/// `write_tx` for any error type (query functions use `QueryResult`).
pub fn write_tx_with<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let immediate = match conn {
        DbConn::Sqlite(inner) => AnsiTransactionManager::transaction_manager_status_mut(inner)
            .transaction_depth()?
            .is_none(),
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => false,
    };
    if !immediate {
        return conn.transaction(f);
    }
    // This process's SQLite writers queue on this mutex
    // instead of in SQLite's busy handler, which polls with sleeps of up to
    // 100 ms (a p99 of several times the p50). Other processes on the same
    // file still wait on `busy_timeout`.
    let _writer = SQLITE_WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // `BEGIN IMMEDIATE` on the inner connection; the multi-connection's
    // transaction manager reads the same state, so COMMIT, ROLLBACK and
    // nested savepoints go through it as usual.
    #[allow(irrefutable_let_patterns)] // with one backend compiled in
    if let DbConn::Sqlite(inner) = conn {
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    }
    match f(conn) {
        Ok(v) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => {
            // The original error matters more than a failed rollback.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the same query on whichever connection is inside: for the
/// statements diesel's multi-connection cannot express (upserts).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}

/// `sqlite` or `pg`, whichever fits the connection's backend: how a query
/// picks its backend's text of raw SQL that differs between the two (both
/// texts are constants, so no SQL is formatted at run time).
pub fn per_backend<T>(conn: &Conn, sqlite: T, pg: T) -> T {
    match conn {
        DbConn::Sqlite(_) => {
            let _ = pg;
            sqlite
        }
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => pg,
    }
}

/// Inside a write transaction: makes concurrent transactions that name
/// the same `key` run one after another until this one ends, so a read of a
/// counter and the decision taken on it are exact. SQLite needs nothing
/// more (a write transaction holds the database's write lock from `BEGIN
/// IMMEDIATE`); PostgreSQL takes a transaction-scoped advisory lock.
pub fn lock_key(conn: &mut Conn, key: &str) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => {
            let _ = key;
            Ok(())
        }
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => {
            // A cached prepared statement: it runs for each throttle key of
            // every client authentication.
            let q = prepared::prepared("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(prepared::Arg::Text(key.to_string()));
            diesel::RunQueryDsl::execute(q, conn).map(|_| ())
        }
    }
}

/// `lock_key` for several keys, taken in the order given (every caller
/// that locks the same keys names them in the same order, so two
/// transactions never wait on each other). Two keys are one statement on
/// PostgreSQL: a client authentication's, on every grant.
pub fn lock_keys(conn: &mut Conn, keys: &[&str]) -> QueryResult<()> {
    match (&*conn, keys) {
        #[cfg(feature = "postgres")]
        (DbConn::Pg(_), [first, second]) => {
            // The target list is evaluated left to right.
            let q = prepared::prepared(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), \
                 pg_advisory_xact_lock(hashtextextended($2, 0))",
            )
            .bind(prepared::Arg::Text(first.to_string()))
            .bind(prepared::Arg::Text(second.to_string()));
            diesel::RunQueryDsl::execute(q, conn).map(|_| ())
        }
        _ => keys.iter().try_for_each(|key| lock_key(conn, key)),
    }
}

/// The full-text match expression for search's content condition (see
/// `queries::scope`), bound as a parameter: every word as a word prefix,
/// FTS5 phrases on SQLite, a tsquery on PostgreSQL. The words are letters
/// and digits only, so neither syntax needs escaping.
pub fn text_match_expr(conn: &Conn, words: &[String]) -> String {
    match conn {
        DbConn::Sqlite(_) => words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" "),
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// Writes a consistent copy of a SQLite database to `to` with `VACUUM INTO`,
/// which reads one snapshot while writers go on (WAL), and compacts as it
/// copies. Returns the copy's size. PostgreSQL has pg_dump for this.
pub fn backup(conn: &mut Conn, to: &Path) -> AppResult<u64> {
    let target = to
        .to_str()
        .ok_or_else(|| AppError::invalid("the backup path is not valid UTF-8"))?;
    match conn {
        DbConn::Sqlite(c) => {
            use diesel::RunQueryDsl;
            // The copy holds everything the database does, so it is created
            // 0600 first (and atomically refused if it exists); VACUUM INTO
            // accepts an empty file and keeps its mode (issue 15 #14).
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            if let Err(e) = o.open(to) {
                return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                    AppError::invalid(format!(
                        "{} exists already; choose a new file",
                        to.display()
                    ))
                } else {
                    AppError::invalid(format!("backup to {}: {e}", to.display()))
                });
            }
            let copied = diesel::sql_query("VACUUM INTO ?")
                .bind::<diesel::sql_types::Text, _>(target)
                .execute(c);
            if let Err(e) = copied {
                let _ = std::fs::remove_file(to);
                return Err(AppError::invalid(format!("backup to {}: {e}", to.display())));
            }
            restrict(to)?;
        }
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => {
            return Err(AppError::invalid(
                "pagegrant backup copies SQLite databases; back up PostgreSQL with pg_dump (or your provider's snapshots)",
            ))
        }
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| AppError::internal(format!("reading {}: {e}", to.display())))
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
