//! Raw SQL that diesel keeps in its per-connection statement cache.
//!
//! `diesel::sql_query` marks every query unsafe to cache (its text is a
//! run-time `String`), so SQLite parses and plans it again on each call and
//! PostgreSQL sends it unnamed. `Prepared` is the same raw SQL for the few
//! queries diesel's DSL cannot write (search's full-text match, the
//! recursive ancestors), but its text is a compile-time constant with
//! every value bound as a parameter, which is what makes caching by text
//! safe: diesel keys a query without a static id by its SQL and bind types
//! (`StatementCacheKey::Sql`), so each pooled connection prepares each text
//! once and reuses it. (diesel's own UPDATEs, and INSERTs of rows with
//! nullable fields, are never cached either: the hot grant writes use this
//! too.) The text names its parameters `$1`, `$2`, … (a
//! number may repeat); each is handed to diesel as a bind in place, so the
//! backend's own placeholders come out (`?` on SQLite, `$n` on
//! PostgreSQL). Results load by name (`QueryableByName`), as
//! `sql_query`'s do.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Integer, Nullable, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A value bound to a `Prepared` text.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Integer(i32),
    BigInt(i64),
    /// A nullable text column's value (`None` binds NULL).
    OptText(Option<String>),
    /// A nullable integer column's value (`None` binds NULL).
    OptBigInt(Option<i64>),
}

/// A constant SQL text and the values of its `$n` parameters.
#[derive(Debug, Clone)]
#[must_use = "Queries are only executed when calling `load`, `get_result` or similar."]
pub struct Prepared {
    sql: &'static str,
    args: Vec<Arg>,
}

/// `sql` as a query diesel may cache; only ever a constant.
pub fn prepared(sql: &'static str) -> Prepared {
    Prepared {
        sql,
        args: Vec::new(),
    }
}

impl Prepared {
    /// Binds the next parameter (`$1` first).
    pub fn bind(mut self, value: Arg) -> Prepared {
        self.args.push(value);
        self
    }
}

impl<DB> QueryFragment<DB> for Prepared
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Integer> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    i32: ToSql<Integer, DB>,
    i64: ToSql<BigInt, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // No `unsafe_to_cache_prepared`: the text never changes, and the
        // text diesel builds from it depends only on it.
        let mut rest: &'static str = self.sql;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let after = &rest[at + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let arg = after[..digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| self.args.get(i));
            match arg {
                Some(Arg::Text(v)) => out.push_bind_param::<Text, String>(v)?,
                Some(Arg::Integer(v)) => out.push_bind_param::<Integer, i32>(v)?,
                Some(Arg::BigInt(v)) => out.push_bind_param::<BigInt, i64>(v)?,
                Some(Arg::OptText(v)) => {
                    out.push_bind_param::<Nullable<Text>, Option<String>>(v)?
                }
                Some(Arg::OptBigInt(v)) => {
                    out.push_bind_param::<Nullable<BigInt>, Option<i64>>(v)?
                }
                // A `$` that names no bound value: a fault in the constant.
                None => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        format!("no value bound for ${}", &after[..digits]).into(),
                    ))
                }
            }
            rest = &after[digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Prepared {
    type QueryId = ();
    // Keyed by its text, not a type: one type carries many texts.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared {}
