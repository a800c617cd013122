//! A real server per test on 127.0.0.1:0 with a fresh temporary database,
//! HTTP clients for it, and the `pagegrant` binary against its data.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::mpsc;

use diesel::prelude::*;
use pagegrant::config::Config;
use pagegrant::crypto::SecretBox;
use pagegrant::db::models::{Page, Plan, Role, User, Workspace};
use pagegrant::db::Pool;
use pagegrant::domain::workspaces::{self as ws, NewPage};
use reqwest::blocking::{Client, Response};

use super::PASSWORD;

pub struct TestServer {
    pub base: String,
    pub pool: Pool,
    pub sbox: SecretBox,
    pub config: Config,
    dir: Option<tempfile::TempDir>,
    handle: actix_web::dev::ServerHandle,
}

pub fn test_config(dir: &Path, port: u16) -> Config {
    let mut cfg = Config::defaults().expect("defaults");
    cfg.server.bind = format!("127.0.0.1:{port}");
    cfg.server.issuer = format!("http://127.0.0.1:{port}");
    cfg.server.data_dir = dir.to_path_buf();
    cfg.server.workers = 2;
    cfg.database.url = test_db_url(dir, "pagegrant.db");
    cfg.database.pool_size = 4;
    cfg.demo.seed = false;
    cfg
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    pub fn start_demo() -> TestServer {
        Self::start_with(|c| c.demo.seed = true)
    }

    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, tweak)
    }

    /// Starts a server on an existing data directory (restarts, re-seeding checks).
    pub fn start_in(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut cfg = test_config(dir.path(), port);
        tweak(&mut cfg);
        let state = pagegrant::build_state(cfg.clone()).expect("state");
        pagegrant::prepare(&state).expect("prepare");
        let pool = state.pool.clone();
        let sbox = state.secret_box.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            let _ = sys.block_on(async move {
                let server = pagegrant::run(state, listener).expect("run");
                let _ = tx.send(server.handle());
                server.await
            });
        });
        let handle = rx.recv().expect("server handle");
        TestServer {
            // The address actually served, whatever issuer the test configured.
            base: format!("http://127.0.0.1:{port}"),
            pool,
            sbox,
            config: cfg,
            dir: Some(dir),
            handle,
        }
    }

    /// Stops the server and hands back its data directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        // The stop command is sent when called; nothing to await here.
        drop(self.handle.stop(false));
        // Let the old workers let go of the database before it is reopened.
        std::thread::sleep(std::time::Duration::from_millis(200));
        self.dir.take().expect("data dir")
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("data dir").path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn conn(&self) -> diesel::r2d2::PooledConnection<pagegrant::db::Manager> {
        self.pool.get().expect("conn")
    }

    pub fn user(&self, email: &str, name: &str) -> User {
        pagegrant::domain::accounts::create_user(&mut self.conn(), email, name, PASSWORD)
            .expect("user")
    }

    pub fn workspace(&self, name: &str, owner: &User, plan: Plan) -> Workspace {
        ws::create_workspace(&mut self.conn(), name, owner, plan).expect("workspace")
    }

    pub fn member(&self, w: &Workspace, u: &User, role: Role) {
        ws::add_member(&mut self.conn(), w, u, role).expect("member");
    }

    pub fn page(
        &self,
        w: &Workspace,
        creator: &User,
        title: &str,
        parent: Option<&Page>,
        private: bool,
    ) -> Page {
        ws::add_page(
            &mut self.conn(),
            NewPage {
                workspace: w,
                title,
                parent: parent.map(|p| &p.id),
                private,
                creator,
            },
        )
        .expect("page")
    }

    pub fn count(&self, table: &str) -> i64 {
        count_rows(&mut self.conn(), table)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // The stop command is sent when called; nothing to await here.
        drop(self.handle.stop(false));
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

pub fn count_rows(conn: &mut pagegrant::db::DbConn, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .expect("count")
        .n
}

/// A browser-like client: keeps cookies, never follows redirects.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A client without a cookie jar, for sending cookies by hand.
pub fn bare_client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn get_html(c: &Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().expect("get");
    let status = r.status().as_u16();
    (status, r.text().expect("body"))
}

/// The `pagegrant` binary, run in `dir` against the database there.
pub fn pagegrant(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagegrant"));
    cmd.args(args)
        .current_dir(dir)
        .env("PAGEGRANT_DATABASE__URL", cli_db(dir))
        .env("PAGEGRANT_SERVER__DATA_DIR", dir.join("data"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn pagegrant");
    if let Some(input) = stdin {
        if let Some(mut s) = child.stdin.take() {
            s.write_all(input.as_bytes()).expect("stdin");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

/// The database of the CLI tests (and the processes they start) in `dir`.
pub fn cli_db(dir: &Path) -> String {
    test_db_url(dir, "cli.db")
}

/// Whether the suite runs on PostgreSQL (`PAGEGRANT_TEST_DATABASE_URL`).
pub fn on_postgres() -> bool {
    std::env::var("PAGEGRANT_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// The database a test uses for data directory `dir`: the SQLite file `name`
/// there, or, with `PAGEGRANT_TEST_DATABASE_URL=postgres://…/postgres`, a
/// fresh database of its own on that server, named after `dir` and `name`
/// (so a restart on the same directory finds the same data).
pub fn test_db_url(dir: &Path, name: &str) -> String {
    match std::env::var("PAGEGRANT_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => pg_database(&base, &dir.join(name)),
        _ => dir.join(name).to_string_lossy().into_owned(),
    }
}

#[cfg(feature = "postgres")]
fn pg_database(base: &str, key: &Path) -> String {
    use diesel::connection::SimpleConnection;
    let hash = pagegrant::crypto::sha256_hex(&key.to_string_lossy());
    let db = format!("pgt_{}", &hash[..20]);
    let mut admin = pagegrant::db::connect(base).expect("PAGEGRANT_TEST_DATABASE_URL answers");
    // Outside a transaction, as PostgreSQL requires; it exists after a restart.
    if let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {db}")) {
        assert!(
            e.to_string().contains("already exists"),
            "creating {db}: {e}"
        );
    }
    let mut u = url::Url::parse(base).expect("a postgres:// URL");
    u.set_path(&db);
    u.to_string()
}

#[cfg(not(feature = "postgres"))]
fn pg_database(_: &str, _: &Path) -> String {
    panic!("PAGEGRANT_TEST_DATABASE_URL needs `cargo test --features postgres`")
}

/// Every row of every table as text: what "in the database" means on either
/// backend (SQLite's files are also searched byte by byte where it applies).
pub fn database_text(url: &str) -> String {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut c = pagegrant::db::connect(url).expect("connect");
    let pg = url.starts_with("postgres");
    let tables: Vec<Name> = diesel::sql_query(if pg {
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    })
    .load(&mut c)
    .expect("tables");
    let mut out = String::new();
    for t in tables {
        let cols: Vec<Name> = diesel::sql_query(if pg {
            format!(
                "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = '{}'",
                t.name
            )
        } else {
            format!("SELECT name FROM pragma_table_info('{}')", t.name)
        })
        .load(&mut c)
        .expect("columns");
        if cols.is_empty() {
            continue;
        }
        let concat = cols
            .iter()
            .map(|c| format!("COALESCE(CAST(\"{}\" AS TEXT), '')", c.name))
            .collect::<Vec<_>>()
            .join(" || ' ' || ");
        let rows: Vec<Row> =
            diesel::sql_query(format!("SELECT {concat} AS row FROM \"{}\"", t.name))
                .load(&mut c)
                .expect("rows");
        for r in rows {
            out.push_str(&r.row);
            out.push('\n');
        }
    }
    out
}

/// Follows a Post/Redirect/Get: a 303 is fetched with the same client (its
/// cookies), as a browser does; anything else is returned as it is.
pub fn follow(srv: &TestServer, c: &Client, r: Response) -> (u16, String) {
    if r.status().as_u16() == 303 {
        let loc = location(&r);
        return get_html(c, &srv.url(&loc));
    }
    let status = r.status().as_u16();
    (status, r.text().expect("body"))
}

/// The `pagegrant` binary against a running test server's own database.
pub fn pagegrant_on(srv: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let dir = srv.path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagegrant"))
        .args(args)
        .current_dir(dir)
        .env("PAGEGRANT_DATABASE__URL", test_db_url(dir, "pagegrant.db"))
        .env("PAGEGRANT_SERVER__DATA_DIR", dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pagegrant");
    if let Some(input) = stdin {
        if let Some(mut s) = child.stdin.take() {
            s.write_all(input.as_bytes()).expect("stdin");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}
