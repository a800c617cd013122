//! The database as a whole: `migrate`, `demo` and `backup`.

use std::path::Path;

use serde_json::{json, Value};

use super::args::emit;
use crate::config::Config;
use crate::db::{self, Conn};
use crate::domain::demo;
use crate::error::{AppError, AppResult};

/// `migrate`: runs the pending migrations.
pub(super) fn migrate(c: &mut Conn, config: &Config, json: bool) -> AppResult<()> {
    let n = db::migrate(c)?;
    let database = db::redacted(&config.database.url);
    emit(
        json,
        json!({"migrations_applied": n, "database": database}),
        &[format!(
            "Database {database} is up to date ({n} migration(s) applied now)."
        )],
    );
    Ok(())
}

/// `demo`: seeds the demo world into an empty database and lists its logins.
pub(super) fn demo(c: &mut Conn, config: &Config, json: bool) -> AppResult<()> {
    let (sbox, _) = crate::state::keys::load(c, config)?;
    let outcome = demo::seed(c, &sbox, &config.server.issuer)?;
    if matches!(outcome, demo::Outcome::NotEmpty) {
        return Err(AppError::invalid(
            "the database already holds data; demo data is seeded only into an empty database",
        ));
    }
    let seeded = matches!(outcome, demo::Outcome::Seeded);
    let logins: Vec<Value> = demo::logins()
        .iter()
        .map(|l| json!({"email": l.email, "password": l.password, "role": l.role}))
        .collect();
    let mut human = vec![if seeded {
        "Seeded the demo world.".to_string()
    } else {
        "The demo world is already there.".to_string()
    }];
    human.extend(
        demo::logins()
            .iter()
            .map(|l| format!("  {} / {}  ({})", l.email, l.password, l.role)),
    );
    emit(json, json!({"seeded": seeded, "logins": logins}), &human);
    Ok(())
}

/// `backup`: copies the SQLite database to a new file.
pub(super) fn backup(c: &mut Conn, to: &Path, json: bool) -> AppResult<()> {
    let bytes = db::backup(c, to)?;
    let path = to.display().to_string();
    emit(
        json,
        json!({"id": path, "path": path, "bytes": bytes}),
        &[format!(
            "Wrote a copy of the database to {path} ({bytes} bytes)."
        )],
    );
    Ok(())
}
