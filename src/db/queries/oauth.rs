//! Pending consent requests and authorization codes.

use diesel::prelude::*;

use crate::db::models::{AuthorizationCode, AuthorizationRequest};
use crate::db::schema::{authorization_codes, authorization_requests};
use crate::db::Conn;

pub fn insert_request(conn: &mut Conn, r: &AuthorizationRequest) -> QueryResult<()> {
    diesel::insert_into(authorization_requests::table)
        .values(r)
        .execute(conn)
        .map(|_| ())
}

pub fn request_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<AuthorizationRequest>> {
    authorization_requests::table
        .find(id)
        .select(AuthorizationRequest::as_select())
        .first(conn)
        .optional()
}

/// Marks a pending request used; false when it was already used or has expired,
/// so two racing approvals cannot both pass.
pub fn consume_request(conn: &mut Conn, id: &str, now: i64) -> QueryResult<bool> {
    diesel::update(
        authorization_requests::table
            .filter(authorization_requests::id.eq(id))
            .filter(authorization_requests::consumed_at.is_null())
            .filter(authorization_requests::expires_at.gt(now)),
    )
    .set(authorization_requests::consumed_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn delete_expired_requests(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    diesel::delete(authorization_requests::table.filter(authorization_requests::expires_at.le(now)))
        .execute(conn)
}

pub fn insert_code(conn: &mut Conn, c: &AuthorizationCode) -> QueryResult<()> {
    diesel::insert_into(authorization_codes::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn code_by_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<AuthorizationCode>> {
    authorization_codes::table
        .find(hash)
        .select(AuthorizationCode::as_select())
        .first(conn)
        .optional()
}

/// Consumes a live code in one conditional UPDATE: of several parallel
/// redemptions exactly one sees `true`.
pub fn consume_code(conn: &mut Conn, hash: &str, now: i64) -> QueryResult<bool> {
    diesel::update(
        authorization_codes::table
            .filter(authorization_codes::code_hash.eq(hash))
            .filter(authorization_codes::consumed_at.is_null())
            .filter(authorization_codes::expires_at.gt(now)),
    )
    .set(authorization_codes::consumed_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}
