//! Shared key material: sealed signing keys and sealed symmetric keys.
//! Inserts never overwrite, so instances starting together settle on what
//! the database holds.

use diesel::prelude::*;

use crate::db::schema::{sealed_keys, signing_keys};
use crate::db::Conn;

/// Every signing key: (kid, sealed PKCS#8 PEM, created_at), oldest first.
pub fn signing_keys(conn: &mut Conn) -> QueryResult<Vec<(String, String, i64)>> {
    crate::db::native!(conn, |nc| {
        signing_keys::table
            .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
            .select((
                signing_keys::kid,
                signing_keys::private_sealed,
                signing_keys::created_at,
            ))
            .load(nc)
    })
}

pub fn insert_signing_key(conn: &mut Conn, kid: &str, sealed: &str, at: i64) -> QueryResult<usize> {
    let row = (
        signing_keys::kid.eq(kid),
        signing_keys::private_sealed.eq(sealed),
        signing_keys::created_at.eq(at),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(signing_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
}

pub fn sealed_key(conn: &mut Conn, name: &str) -> QueryResult<Option<String>> {
    crate::db::native!(conn, |nc| {
        sealed_keys::table
            .find(name)
            .select(sealed_keys::key_sealed)
            .first(nc)
            .optional()
    })
}

/// Stores a sealed key under `name` unless one is there already.
pub fn insert_sealed_key(conn: &mut Conn, name: &str, sealed: &str, at: i64) -> QueryResult<usize> {
    let row = (
        sealed_keys::name.eq(name),
        sealed_keys::key_sealed.eq(sealed),
        sealed_keys::created_at.eq(at),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(sealed_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
}

/// Whether the database holds any sealed key (then the master key must exist).
pub fn any(conn: &mut Conn) -> QueryResult<bool> {
    let a: i64 = signing_keys::table.count().get_result(conn)?;
    let b: i64 = sealed_keys::table.count().get_result(conn)?;
    Ok(a + b > 0)
}
