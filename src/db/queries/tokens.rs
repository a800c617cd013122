//! Refresh and access tokens, their families, and revocation. Every
//! single-use step is a conditional UPDATE, so a race has one winner.

use diesel::prelude::*;

use crate::db::models::{
    AccessToken, Connection, ConnectionId, Integration, RefreshToken, User, Workspace,
};
use crate::db::prepared::{prepared, Arg};
use crate::db::queries::connections::Grantee;
use crate::db::schema::{
    access_tokens, connections, integrations, internal_tokens, refresh_tokens, users, workspaces,
};
use crate::db::Conn;

// The grant's writes are constant texts diesel caches (`db::prepared`):
// its DSL never caches an UPDATE, nor an INSERT of a row with nullable
// fields, so each grant parsed three statements again (SQLite) or sent
// each as an unnamed prepare plus its execution (PostgreSQL).

/// `use_refresh`'s UPDATE ($1 now, $2 the token's hash), which is also
/// the spend of PostgreSQL's one-statement rotation (`spend_and_insert`).
macro_rules! use_refresh_sql {
    () => {
        "UPDATE refresh_tokens SET used_at = $1 \
         WHERE hash = $2 AND used_at IS NULL AND revoked_at IS NULL"
    };
}

pub fn insert_refresh(conn: &mut Conn, t: &RefreshToken) -> QueryResult<()> {
    let q = prepared(
        "INSERT INTO refresh_tokens (hash, connection_id, family_id, parent_hash, scope, \
         created_at, expires_at, used_at, revoked_at, resource) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Arg::Text(t.hash.clone()))
    .bind(Arg::Text(t.connection_id.to_string()))
    .bind(Arg::Text(t.family_id.clone()))
    .bind(Arg::OptText(t.parent_hash.clone()))
    .bind(Arg::Text(t.scope.clone()))
    .bind(Arg::BigInt(t.created_at))
    .bind(Arg::BigInt(t.expires_at))
    .bind(Arg::OptBigInt(t.used_at))
    .bind(Arg::OptBigInt(t.revoked_at))
    .bind(Arg::Text(t.resource.clone()));
    crate::db::native!(conn, |nc| q.execute(nc).map(|_| ()))
}

pub fn insert_access(conn: &mut Conn, t: &AccessToken) -> QueryResult<()> {
    let q = prepared(
        "INSERT INTO access_tokens (jti, connection_id, family_id, scope, issued_at, \
         expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Arg::Text(t.jti.clone()))
    .bind(Arg::Text(t.connection_id.to_string()))
    .bind(Arg::Text(t.family_id.clone()))
    .bind(Arg::Text(t.scope.clone()))
    .bind(Arg::BigInt(t.issued_at))
    .bind(Arg::BigInt(t.expires_at))
    .bind(Arg::OptBigInt(t.revoked_at));
    crate::db::native!(conn, |nc| q.execute(nc).map(|_| ()))
}

/// What a grant spends before its tokens are written: the code it
/// redeems (recording the family it starts), the refresh token it rotates,
/// or nothing (a retry inside the refresh grace window).
#[derive(Clone, Copy)]
pub enum Spend<'a> {
    Code { hash: &'a str, family: &'a str },
    Refresh { hash: &'a str },
    Nothing,
}

/// Spends `spend` in its conditional UPDATE and, only if it was still
/// live, writes the grant's access and refresh tokens (as minted: neither
/// used nor revoked). Answers whether it was spent; when not, nothing was
/// written. Of parallel grants spending the same code or token, exactly
/// one sees `true`.
///
/// On PostgreSQL this is one statement (data-modifying CTEs: the inserts
/// select from the UPDATE's RETURNING, so they write a row only when it
/// matched), one round trip instead of three (issue 30 item 4). SQLite
/// has no data-modifying CTEs, and its statements are calls in this
/// process, not trips: there it is the three statements.
pub fn spend_and_insert(
    conn: &mut Conn,
    spend: Spend<'_>,
    now: i64,
    access: &AccessToken,
    refresh: &RefreshToken,
) -> QueryResult<bool> {
    debug_assert!(access.revoked_at.is_none() && refresh.used_at.is_none());
    debug_assert!(refresh.revoked_at.is_none());
    #[cfg(feature = "postgres")]
    if let crate::db::DbConn::Pg(pg) = conn {
        // $1 to $3 are the spend's (unused ones are bound, never sent).
        let (sql, hash, family) = match spend {
            Spend::Code { hash, family } => (SPEND_CODE_PG, hash, family),
            Spend::Refresh { hash } => (SPEND_REFRESH_PG, hash, ""),
            Spend::Nothing => (INSERT_BOTH_PG, "", ""),
        };
        let q = prepared(sql)
            .bind(Arg::BigInt(now))
            .bind(Arg::Text(hash.to_string()))
            .bind(Arg::Text(family.to_string()))
            .bind(Arg::Text(access.jti.clone()))
            .bind(Arg::Text(access.connection_id.to_string()))
            .bind(Arg::Text(access.family_id.clone()))
            .bind(Arg::Text(access.scope.clone()))
            .bind(Arg::BigInt(access.issued_at))
            .bind(Arg::BigInt(access.expires_at))
            .bind(Arg::Text(refresh.hash.clone()))
            .bind(Arg::Text(refresh.connection_id.to_string()))
            .bind(Arg::Text(refresh.family_id.clone()))
            .bind(Arg::OptText(refresh.parent_hash.clone()))
            .bind(Arg::Text(refresh.scope.clone()))
            .bind(Arg::BigInt(refresh.created_at))
            .bind(Arg::BigInt(refresh.expires_at))
            .bind(Arg::Text(refresh.resource.clone()));
        return q.execute(pg).map(|n| n == 1);
    }
    let spent = match spend {
        Spend::Code { hash, family } => super::oauth::consume_code(conn, hash, family, now)?,
        Spend::Refresh { hash } => use_refresh(conn, hash, now)?,
        Spend::Nothing => true,
    };
    if spent {
        insert_access(conn, access)?;
        insert_refresh(conn, refresh)?;
    }
    Ok(spent)
}

/// `spend_and_insert`'s statements on PostgreSQL: the spend in `spent`
/// ($1 now, $2 the code's or token's hash, $3 the family a code starts),
/// then the two inserts from it ($4 to $9 the access token, $10 to $17 the
/// refresh token), which write a row only when `spent` returned one.
#[cfg(feature = "postgres")]
macro_rules! insert_tokens {
    ($from:literal) => {
        concat!(
            "access AS (INSERT INTO access_tokens \
               (jti, connection_id, family_id, scope, issued_at, expires_at) \
             SELECT $4, $5, $6, $7, $8, $9",
            $from,
            ") INSERT INTO refresh_tokens (hash, connection_id, family_id, parent_hash, scope, \
               created_at, expires_at, resource) \
             SELECT $10, $11, $12, $13, $14, $15, $16, $17",
            $from
        )
    };
}

#[cfg(feature = "postgres")]
const SPEND_CODE_PG: &str = concat!(
    "WITH spent AS (",
    super::oauth::consume_code_sql!(),
    " RETURNING 1), ",
    insert_tokens!(" FROM spent")
);

#[cfg(feature = "postgres")]
const SPEND_REFRESH_PG: &str = concat!(
    "WITH spent AS (",
    use_refresh_sql!(),
    " RETURNING 1), ",
    insert_tokens!(" FROM spent")
);

/// A retry inside the grace window spends nothing: the inserts alone.
#[cfg(feature = "postgres")]
const INSERT_BOTH_PG: &str = concat!("WITH ", insert_tokens!(""));

pub fn refresh_by_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<RefreshToken>> {
    crate::db::native!(conn, |nc| {
        refresh_tokens::table
            .find(hash)
            .select(RefreshToken::as_select())
            .first(nc)
            .optional()
    })
}

/// A refresh token with its connection, the connection's workspace and
/// its installer, in one statement (a rotation's reads; see
/// `oauth::code_with_grantee`).
pub fn refresh_with_grantee(
    conn: &mut Conn,
    hash: &str,
) -> QueryResult<Option<(RefreshToken, Grantee)>> {
    crate::db::native!(conn, |nc| {
        refresh_tokens::table
            .inner_join(connections::table)
            .inner_join(workspaces::table.on(workspaces::id.eq(connections::workspace_id)))
            .inner_join(users::table.on(users::id.eq(connections::installed_by)))
            .filter(refresh_tokens::hash.eq(hash))
            .select((
                RefreshToken::as_select(),
                Connection::as_select(),
                Workspace::as_select(),
                User::as_select(),
            ))
            .first(nc)
            .optional()
    })
    .map(|row| row.map(|(token, c, w, u)| (token, (c, w, u))))
}

pub fn access_by_jti(conn: &mut Conn, jti: &str) -> QueryResult<Option<AccessToken>> {
    crate::db::native!(conn, |nc| {
        access_tokens::table
            .find(jti)
            .select(AccessToken::as_select())
            .first(nc)
            .optional()
    })
}

/// An access token's row with its connection and integration, in one
/// statement (the bearer check on every `/v1` and `/mcp` request; diesel
/// DSL, so each pooled connection prepares it once). Whether the token is
/// revoked and the connection active is the caller's to judge. Also when
/// the connection last called `/mcp`, so noting a call needs no read.
pub fn access_grant(conn: &mut Conn, jti: &str) -> QueryResult<Option<AccessGrant>> {
    crate::db::native!(conn, |nc| {
        access_tokens::table
            .inner_join(connections::table.inner_join(integrations::table))
            .filter(access_tokens::jti.eq(jti))
            .select((
                AccessToken::as_select(),
                Connection::as_select(),
                Integration::as_select(),
                connections::mcp_last_used_at,
            ))
            .first(nc)
            .optional()
    })
}

/// An access token's row, its connection and integration, and when the
/// connection last called `/mcp`.
pub type AccessGrant = (AccessToken, Connection, Integration, Option<i64>);

/// An internal integration token's connection and integration, by the
/// token's SHA-256, in one statement.
pub fn internal_grant(
    conn: &mut Conn,
    hash: &str,
) -> QueryResult<Option<(Connection, Integration)>> {
    crate::db::native!(conn, |nc| {
        internal_tokens::table
            .inner_join(connections::table.inner_join(integrations::table))
            .filter(internal_tokens::hash.eq(hash))
            .select((Connection::as_select(), Integration::as_select()))
            .first(nc)
            .optional()
    })
}

/// Marks a live refresh token used; false when it was used or revoked already.
pub fn use_refresh(conn: &mut Conn, hash: &str, now: i64) -> QueryResult<bool> {
    let q = prepared(use_refresh_sql!())
        .bind(Arg::BigInt(now))
        .bind(Arg::Text(hash.to_string()));
    crate::db::native!(conn, |nc| q.execute(nc).map(|n| n == 1))
}

/// Revokes every refresh and access token of a family (of `connection`:
/// the index is on both).
pub fn revoke_family(
    conn: &mut Conn,
    connection: &ConnectionId,
    family: &str,
    now: i64,
) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::connection_id.eq(connection))
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        access_tokens::table
            .filter(access_tokens::connection_id.eq(connection))
            .filter(access_tokens::family_id.eq(family))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Revokes every token family of a connection.
pub fn revoke_connection_tokens(conn: &mut Conn, id: &ConnectionId, now: i64) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::connection_id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        access_tokens::table
            .filter(access_tokens::connection_id.eq(id))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Whether any token of the family is revoked (a revoked family stays dead).
pub fn family_revoked(
    conn: &mut Conn,
    connection: &ConnectionId,
    family: &str,
) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::select(diesel::dsl::exists(
            refresh_tokens::table
                .filter(refresh_tokens::connection_id.eq(connection))
                .filter(refresh_tokens::family_id.eq(family))
                .filter(refresh_tokens::revoked_at.is_not_null()),
        ))
        .get_result(nc)
    })
}

/// The connection an internal token belongs to.
pub fn internal_token_connection(conn: &mut Conn, hash: &str) -> QueryResult<Option<ConnectionId>> {
    crate::db::native!(conn, |nc| {
        internal_tokens::table
            .filter(internal_tokens::hash.eq(hash))
            .select(internal_tokens::connection_id)
            .first(nc)
            .optional()
    })
}

/// The distinct scopes of a connection's live refresh tokens (not revoked,
/// not expired): what its grants hold, for the consent page's "also wants
/// to" on a re-consent. Bounded: one connection has few grant shapes.
pub fn live_scopes(conn: &mut Conn, id: &ConnectionId, now: i64) -> QueryResult<Vec<String>> {
    crate::db::native!(conn, |nc| {
        refresh_tokens::table
            .filter(refresh_tokens::connection_id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now))
            .select(refresh_tokens::scope)
            .distinct()
            .limit(50)
            .load(nc)
    })
}
