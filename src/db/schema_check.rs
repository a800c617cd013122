//! `schema.rs` against the migrations: runs every migration on a fresh
//! database of each backend (PostgreSQL when `PAGEGRANT_TEST_DATABASE_URL`
//! is set and the `postgres` feature is on), reads the tables, columns,
//! types, nullability and primary keys the database reports, and compares
//! them with what `schema.rs` declares. diesel cannot list its `table!`s at
//! run time, so the declarations are read from the file's text (it is
//! written in `diesel print-schema`'s one-column-a-line shape). A migration
//! that adds a column `schema.rs` lacks fails here, and so does a column
//! `schema.rs` names that no migration makes.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::db::{Conn, DbConn};

/// What SQLite has that `schema.rs` leaves out on purpose: the FTS5 index
/// of block text (a virtual table and its shadow tables) and `blocks.seq`,
/// the rowid it indexes by, which is SQLite's primary key of `blocks`
/// (`id`, diesel's key and PostgreSQL's primary key, is unique there).
/// Only search's raw SQL names them; PostgreSQL has neither (its index is
/// on an expression).
const SQLITE_ONLY_TABLES: &[&str] = &[
    "blocks_fts",
    "blocks_fts_config",
    "blocks_fts_data",
    "blocks_fts_docsize",
    "blocks_fts_idx",
];
/// (table, column, the key diesel uses instead when the column is
/// SQLite's primary key)
const SQLITE_ONLY_COLUMNS: &[(&str, &str, &str)] = &[("blocks", "seq", "id")];

/// A column as the comparison sees it: the diesel type's name and whether
/// it may be NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    ty: String,
    nullable: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
}

type Schema = BTreeMap<String, Table>;

/// The tables `schema.rs` declares, read from its text.
fn declared(text: &str) -> Schema {
    let mut out = Schema::new();
    let mut rest = text;
    while let Some(at) = rest.find("diesel::table! {") {
        rest = &rest[at + "diesel::table! {".len()..];
        let end = rest
            .find("\n}")
            .expect("a table! block ends with `}` on its own line");
        let block = &rest[..end];
        rest = &rest[end..];
        let mut lines = block
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"));
        let head = lines.next().expect("a table! block names its table");
        let (name, pk) = head
            .trim_end_matches('{')
            .trim()
            .split_once('(')
            .expect("`name (primary key) {`");
        let mut table = Table {
            primary_key: pk
                .trim_end_matches(')')
                .split(',')
                .map(|c| c.trim().to_string())
                .collect(),
            ..Table::default()
        };
        let mut sql_name: Option<String> = None;
        for line in lines {
            if let Some(n) = line.strip_prefix("#[sql_name = \"") {
                sql_name = Some(n.trim_end_matches("\"]").to_string());
                continue;
            }
            if line == "}" {
                continue;
            }
            let (col, ty) = line
                .trim_end_matches(',')
                .split_once("->")
                .unwrap_or_else(|| panic!("a column line `name -> Type,`: {line:?}"));
            let ty = ty.trim();
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (ty, false),
            };
            let col = sql_name.take().unwrap_or_else(|| col.trim().to_string());
            table.columns.insert(
                col,
                Column {
                    ty: ty.to_string(),
                    nullable,
                },
            );
        }
        out.insert(name.trim().to_string(), table);
    }
    out
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    col: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    /// 1-based position in the primary key, 0 when not in it.
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

/// The diesel type a column's database type reads as.
fn diesel_type(db_type: &str) -> String {
    match db_type.to_ascii_lowercase().as_str() {
        "text" => "Text",
        "bigint" => "BigInt",
        "integer" => "Integer",
        "boolean" => "Bool",
        other => return format!("<{other}: no mapping in schema_check>"),
    }
    .to_string()
}

/// The tables the migrated database holds (not diesel's own bookkeeping).
fn actual(conn: &mut Conn) -> Schema {
    let rows: Vec<Row> = match conn {
        DbConn::Sqlite(_) => diesel::sql_query(
            "SELECT m.name AS tbl, p.name AS col, p.type AS ty, p.\"notnull\" = 0 AS nullable, \
                    p.pk AS pk \
               FROM sqlite_master m JOIN pragma_table_info(m.name) p \
              WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                AND m.name <> '__diesel_schema_migrations'",
        ),
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => diesel::sql_query(
            "SELECT c.table_name::text AS tbl, c.column_name::text AS col, c.data_type::text AS ty, \
                    c.is_nullable = 'YES' AS nullable, COALESCE(k.ordinal_position, 0)::bigint AS pk \
               FROM information_schema.columns c \
               LEFT JOIN (information_schema.table_constraints t \
                          JOIN information_schema.key_column_usage k \
                            ON k.constraint_name = t.constraint_name \
                           AND k.table_schema = t.table_schema AND k.table_name = t.table_name) \
                 ON t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema \
                AND k.table_name = c.table_name AND k.column_name = c.column_name \
              WHERE c.table_schema = current_schema() \
                AND c.table_name <> '__diesel_schema_migrations'",
        ),
    }
    .load(conn)
    .expect("reading the migrated tables");
    let mut out = Schema::new();
    let mut pks: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in rows {
        if r.pk > 0 {
            pks.entry(r.tbl.clone())
                .or_default()
                .push((r.pk, r.col.clone()));
        }
        out.entry(r.tbl).or_default().columns.insert(
            r.col,
            Column {
                ty: diesel_type(&r.ty),
                nullable: r.nullable,
            },
        );
    }
    for (tbl, mut cols) in pks {
        cols.sort();
        if let Some(t) = out.get_mut(&tbl) {
            t.primary_key = cols.into_iter().map(|(_, c)| c).collect();
        }
    }
    out
}

/// Takes out what SQLite alone has (see `SQLITE_ONLY_TABLES`), failing if
/// any of it is gone, so the list cannot outlive what it excuses.
fn without_sqlite_only(mut s: Schema) -> Schema {
    for t in SQLITE_ONLY_TABLES {
        assert!(
            s.remove(*t).is_some(),
            "SQLITE_ONLY_TABLES names {t}, which the migrations no longer make"
        );
    }
    for (t, c, key) in SQLITE_ONLY_COLUMNS {
        let table = s.get_mut(*t);
        let gone = table.and_then(|table| {
            let col = table.columns.remove(*c)?;
            if table.primary_key == [*c] {
                table.primary_key = vec![key.to_string()];
            }
            Some(col)
        });
        assert!(
            gone.is_some(),
            "SQLITE_ONLY_COLUMNS names {t}.{c}, which the migrations no longer make"
        );
    }
    s
}

/// What differs, one line each; empty when they agree.
fn differences(declared: &Schema, actual: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (name, d) in declared {
        let Some(a) = actual.get(name) else {
            out.push(format!(
                "schema.rs declares table {name}, which no migration makes"
            ));
            continue;
        };
        for (col, dc) in &d.columns {
            match a.columns.get(col) {
                None => out.push(format!(
                    "schema.rs declares {name}.{col}, which no migration makes"
                )),
                Some(ac) if ac != dc => out.push(format!(
                    "{name}.{col}: schema.rs says {dc:?}, the migrations make {ac:?}"
                )),
                Some(_) => {}
            }
        }
        for (col, ac) in &a.columns {
            if !d.columns.contains_key(col) {
                out.push(format!(
                    "the migrations make {name}.{col} ({ac:?}), which schema.rs lacks"
                ));
            }
        }
        if d.primary_key != a.primary_key {
            out.push(format!(
                "{name}: schema.rs's primary key is {:?}, the migrations' {:?}",
                d.primary_key, a.primary_key
            ));
        }
    }
    for name in actual.keys() {
        if !declared.contains_key(name) {
            out.push(format!(
                "the migrations make table {name}, which schema.rs lacks"
            ));
        }
    }
    out
}

fn schema_rs() -> Schema {
    declared(include_str!("schema.rs"))
}

fn migrated_sqlite() -> Conn {
    let mut conn = crate::db::connect(":memory:").expect("an in-memory SQLite database");
    crate::db::migrate(&mut conn).expect("the SQLite migrations run");
    conn
}

fn assert_agree(backend: &str, actual: &Schema) {
    let diff = differences(&schema_rs(), actual);
    assert!(
        diff.is_empty(),
        "src/db/schema.rs and migrations/{backend} disagree:\n  {}",
        diff.join("\n  ")
    );
}

#[test]
fn schema_rs_matches_the_sqlite_migrations() {
    let actual = without_sqlite_only(actual(&mut migrated_sqlite()));
    assert_agree("sqlite", &actual);
}

#[cfg(feature = "postgres")]
#[test]
fn schema_rs_matches_the_postgres_migrations() {
    use diesel::connection::SimpleConnection;
    let Some(base) = std::env::var("PAGEGRANT_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return;
    };
    let db = format!("pgt_schema_{}", crate::crypto::new_uuid().replace('-', ""));
    let mut admin = crate::db::connect(&base).expect("PAGEGRANT_TEST_DATABASE_URL answers");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("creating a database");
    let mut url = url::Url::parse(&base).expect("a postgres:// URL");
    url.set_path(&db);
    let found = {
        let mut conn = crate::db::connect(url.as_str()).expect("connecting to the new database");
        crate::db::migrate(&mut conn).expect("the PostgreSQL migrations run");
        actual(&mut conn)
    };
    let _ = admin.batch_execute(&format!("DROP DATABASE {db}"));
    assert_agree("postgres", &found);
}

#[test]
fn the_check_reports_a_column_a_migration_adds_that_schema_rs_lacks() {
    let mut conn = migrated_sqlite();
    diesel::sql_query("ALTER TABLE pages ADD COLUMN icon TEXT")
        .execute(&mut conn)
        .expect("adding a column");
    let diff = differences(&schema_rs(), &without_sqlite_only(actual(&mut conn)));
    assert_eq!(
        diff,
        ["the migrations make pages.icon (Column { ty: \"Text\", nullable: true }), which schema.rs lacks"]
    );
}

#[test]
fn the_check_reports_a_column_schema_rs_declares_that_no_migration_makes() {
    let mut conn = migrated_sqlite();
    diesel::sql_query("ALTER TABLE connections DROP COLUMN mcp_last_used_at")
        .execute(&mut conn)
        .expect("dropping a column");
    let diff = differences(&schema_rs(), &without_sqlite_only(actual(&mut conn)));
    assert_eq!(
        diff,
        ["schema.rs declares connections.mcp_last_used_at, which no migration makes"]
    );
}

#[test]
fn the_check_reports_a_type_or_nullability_that_differs() {
    let text = include_str!("schema.rs").replace(
        "        revoked_by -> Nullable<Text>,",
        "        revoked_by -> Text,",
    );
    let diff = differences(
        &declared(&text),
        &without_sqlite_only(actual(&mut migrated_sqlite())),
    );
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].starts_with("connections.revoked_by:"), "{diff:?}");
}
