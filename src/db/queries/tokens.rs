//! Refresh tokens, their families, and revocation. Every single-use step
//! is a conditional UPDATE, so a race has one winner.
//!
//! A family is a row (`token_families`): its code's redemption writes it,
//! and revoking it kills every token of it, refresh and access alike. The
//! refresh tokens are keyed by (family, hash), so a rotation's used token and
//! its successor share a page; an access token names its family in a claim
//! and is not stored at all (issue 30: what a grant writes).

use diesel::prelude::*;

use crate::db::models::{
    Connection, ConnectionId, Integration, RefreshToken, TokenFamily, User, Workspace,
};
use crate::db::prepared::{prepared, Arg};
use crate::db::queries::connections::Grantee;
use crate::db::schema::{
    access_tokens, connections, integrations, internal_tokens, legacy_refresh_families,
    refresh_tokens, token_families, users, workspaces,
};
use crate::db::Conn;

// The grant's writes are constant texts diesel caches (`db::prepared`):
// its DSL never caches an UPDATE, nor an INSERT of a row with nullable
// fields, so each grant parsed its statements again (SQLite) or sent each
// as an unnamed prepare plus its execution (PostgreSQL).

/// `use_refresh`'s UPDATE ($1 now, $2 the token's hash, $3 its family),
/// which is also the spend of PostgreSQL's one-statement rotation
/// (`spend_and_insert`). The family's revocation is not checked here: a
/// token minted into a revoked family is dead on arrival (every use reads
/// the family's row).
macro_rules! use_refresh_sql {
    () => {
        "UPDATE refresh_tokens SET used_at = $1 \
         WHERE family_id = $3 AND hash = $2 AND used_at IS NULL"
    };
}

/// `insert_refresh`'s INSERT, $3 the family and $5 to $9 the token (the
/// numbering `spend_and_insert`'s statements share).
macro_rules! insert_refresh_sql {
    ($from:literal) => {
        concat!(
            "INSERT INTO refresh_tokens (family_id, hash, scope, created_at, expires_at, resource) ",
            "SELECT $3, $5, $6, $7, $8, $9",
            $from
        )
    };
}

/// `insert_family`'s INSERT: $3 the family, $4 its connection, $1 now.
macro_rules! insert_family_sql {
    ($from:literal) => {
        concat!(
            "INSERT INTO token_families (id, connection_id, created_at) SELECT $3, $4, $1",
            $from
        )
    };
}

/// Binds `spend_and_insert`'s numbering: $1 now, $2 the spent code's or
/// token's hash, $3 the family, $4 its connection, $5 to $9 the new
/// refresh token. A text binds only the numbers it names.
fn bind_grant(
    sql: &'static str,
    now: i64,
    spent: &str,
    connection: &str,
    t: &RefreshToken,
) -> crate::db::prepared::Prepared {
    prepared(sql)
        .bind(Arg::BigInt(now))
        .bind(Arg::Text(spent.to_string()))
        .bind(Arg::Text(t.family_id.clone()))
        .bind(Arg::Text(connection.to_string()))
        .bind(Arg::Text(t.hash.clone()))
        .bind(Arg::Text(t.scope.clone()))
        .bind(Arg::BigInt(t.created_at))
        .bind(Arg::BigInt(t.expires_at))
        .bind(Arg::Text(t.resource.clone()))
}

/// What a grant spends before its refresh token is written: the code it
/// redeems (starting the token's family, of `connection`), the refresh
/// token it rotates, or nothing (a retry inside the refresh grace window).
#[derive(Clone, Copy)]
pub enum Spend<'a> {
    Code {
        hash: &'a str,
        connection: &'a ConnectionId,
    },
    Refresh {
        hash: &'a str,
    },
    Nothing,
}

/// Spends `spend` in its conditional UPDATE and, only if it was still
/// live, writes the grant's refresh token (as minted: unused) and, for a
/// code, its family's row. Answers whether it was spent; when not, nothing
/// was written. Of parallel grants spending the same code or token,
/// exactly one sees `true`.
///
/// On PostgreSQL this is one statement (data-modifying CTEs: the inserts
/// select from the UPDATE's RETURNING, so they write a row only when it
/// matched), one round trip instead of three (issue 30 item 4). SQLite
/// has no data-modifying CTEs, and its statements are calls in this
/// process, not trips: there it runs them one after another.
pub fn spend_and_insert(
    conn: &mut Conn,
    spend: Spend<'_>,
    now: i64,
    refresh: &RefreshToken,
) -> QueryResult<bool> {
    debug_assert!(refresh.used_at.is_none());
    let (spent, connection) = match spend {
        Spend::Code { hash, connection } => (hash, connection.as_str()),
        Spend::Refresh { hash } => (hash, ""),
        Spend::Nothing => ("", ""),
    };
    #[cfg(feature = "postgres")]
    if let crate::db::DbConn::Pg(pg) = conn {
        let sql = match spend {
            Spend::Code { .. } => SPEND_CODE_PG,
            Spend::Refresh { .. } => SPEND_REFRESH_PG,
            Spend::Nothing => insert_refresh_sql!(""),
        };
        return bind_grant(sql, now, spent, connection, refresh)
            .execute(pg)
            .map(|n| n == 1);
    }
    let run = |c: &mut Conn, sql: &'static str| {
        let q = bind_grant(sql, now, spent, connection, refresh);
        crate::db::native!(c, |nc| q.execute(nc))
    };
    let live = match spend {
        Spend::Code { .. } => {
            run(conn, super::oauth::consume_code_sql!())? == 1
                && run(conn, insert_family_sql!(""))? == 1
        }
        Spend::Refresh { .. } => run(conn, use_refresh_sql!())? == 1,
        Spend::Nothing => true,
    };
    if live {
        run(conn, insert_refresh_sql!(""))?;
    }
    Ok(live)
}

#[cfg(feature = "postgres")]
const SPEND_CODE_PG: &str = concat!(
    "WITH spent AS (",
    super::oauth::consume_code_sql!(),
    " RETURNING 1), family AS (",
    insert_family_sql!(" FROM spent"),
    ") ",
    insert_refresh_sql!(" FROM spent")
);

#[cfg(feature = "postgres")]
const SPEND_REFRESH_PG: &str = concat!(
    "WITH spent AS (",
    use_refresh_sql!(),
    " RETURNING 1) ",
    insert_refresh_sql!(" FROM spent")
);

/// The family of a refresh token issued before tokens named theirs (by the
/// token's hash).
pub fn legacy_family(conn: &mut Conn, hash: &str) -> QueryResult<Option<String>> {
    crate::db::native!(conn, |nc| {
        legacy_refresh_families::table
            .find(hash)
            .select(legacy_refresh_families::family_id)
            .first(nc)
            .optional()
    })
}

/// A refresh token and its family's row.
pub fn refresh_by_key(
    conn: &mut Conn,
    family: &str,
    hash: &str,
) -> QueryResult<Option<(RefreshToken, TokenFamily)>> {
    crate::db::native!(conn, |nc| {
        refresh_tokens::table
            .inner_join(token_families::table)
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::hash.eq(hash))
            .select((RefreshToken::as_select(), TokenFamily::as_select()))
            .first(nc)
            .optional()
    })
}

/// A refresh token with its family, the family's connection, the
/// connection's workspace and its installer, in one statement (a
/// rotation's reads; see `oauth::code_with_grantee`).
pub fn refresh_with_grantee(
    conn: &mut Conn,
    family: &str,
    hash: &str,
) -> QueryResult<Option<(RefreshToken, TokenFamily, Grantee)>> {
    crate::db::native!(conn, |nc| {
        refresh_tokens::table
            .inner_join(token_families::table.inner_join(connections::table))
            .inner_join(workspaces::table.on(workspaces::id.eq(connections::workspace_id)))
            .inner_join(users::table.on(users::id.eq(connections::installed_by)))
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::hash.eq(hash))
            .select((
                RefreshToken::as_select(),
                TokenFamily::as_select(),
                Connection::as_select(),
                Workspace::as_select(),
                User::as_select(),
            ))
            .first(nc)
            .optional()
    })
    .map(|row| row.map(|(token, family, c, w, u)| (token, family, (c, w, u))))
}

/// A family's row.
pub fn family(conn: &mut Conn, id: &str) -> QueryResult<Option<TokenFamily>> {
    crate::db::native!(conn, |nc| {
        token_families::table
            .find(id)
            .select(TokenFamily::as_select())
            .first(nc)
            .optional()
    })
}

/// The family of an access token: its `fam` claim, or for a token signed
/// before the claim existed, its row in `access_tokens` (by `jti`).
pub fn access_family(conn: &mut Conn, fam: &str, jti: &str) -> QueryResult<Option<String>> {
    if !fam.is_empty() {
        return Ok(Some(fam.to_string()));
    }
    crate::db::native!(conn, |nc| {
        access_tokens::table
            .find(jti)
            .select(access_tokens::family_id)
            .first(nc)
            .optional()
    })
}

/// An access token's family with its connection and integration, in one
/// statement (the bearer check on every `/v1` and `/mcp` request; diesel
/// DSL, so each pooled connection prepares it once). Whether the family is
/// revoked and the connection active is the caller's to judge. Also when
/// the connection last called `/mcp`, so noting a call needs no read.
pub fn access_grant(conn: &mut Conn, fam: &str, jti: &str) -> QueryResult<Option<AccessGrant>> {
    let Some(family) = access_family(conn, fam, jti)? else {
        return Ok(None);
    };
    crate::db::native!(conn, |nc| {
        token_families::table
            .inner_join(connections::table.inner_join(integrations::table))
            .filter(token_families::id.eq(&family))
            .select((
                TokenFamily::as_select(),
                Connection::as_select(),
                Integration::as_select(),
                connections::mcp_last_used_at,
            ))
            .first(nc)
            .optional()
    })
}

/// An access token's family, its connection and integration, and when the
/// connection last called `/mcp`.
pub type AccessGrant = (TokenFamily, Connection, Integration, Option<i64>);

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

/// Marks a live refresh token used; false when it was used already.
pub fn use_refresh(conn: &mut Conn, family: &str, hash: &str, now: i64) -> QueryResult<bool> {
    let q = prepared(use_refresh_sql!())
        .bind(Arg::BigInt(now))
        .bind(Arg::Text(hash.to_string()))
        .bind(Arg::Text(family.to_string()));
    crate::db::native!(conn, |nc| q.execute(nc).map(|n| n == 1))
}

/// Revokes a family: every refresh and access token of it dies.
pub fn revoke_family(conn: &mut Conn, family: &str, now: i64) -> QueryResult<()> {
    diesel::update(
        token_families::table
            .filter(token_families::id.eq(family))
            .filter(token_families::revoked_at.is_null()),
    )
    .set(token_families::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Revokes every token family of a connection.
pub fn revoke_connection_tokens(conn: &mut Conn, id: &ConnectionId, now: i64) -> QueryResult<()> {
    diesel::update(
        token_families::table
            .filter(token_families::connection_id.eq(id))
            .filter(token_families::revoked_at.is_null()),
    )
    .set(token_families::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
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

/// The distinct scopes of a connection's live refresh tokens (of a family
/// not revoked, not expired): what its grants hold, for the consent page's
/// "also wants to" on a re-consent. Bounded: one connection has few grant
/// shapes.
pub fn live_scopes(conn: &mut Conn, id: &ConnectionId, now: i64) -> QueryResult<Vec<String>> {
    crate::db::native!(conn, |nc| {
        refresh_tokens::table
            .inner_join(token_families::table)
            .filter(token_families::connection_id.eq(id))
            .filter(token_families::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now))
            .select(refresh_tokens::scope)
            .distinct()
            .limit(50)
            .load(nc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbConn, SQLITE_MIGRATIONS};
    use diesel_migrations::MigrationHarness;

    /// The migration that made families rows: what tokens issued before it
    /// become. A family revoked then is revoked now; a refresh token keeps
    /// its family, state and resources and is found by its hash; an access
    /// token signed without the `fam` claim is found by its `jti`.
    #[test]
    fn tokens_issued_before_families_were_rows_keep_their_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = dir.path().join("m.db").display().to_string();
        let mut conn = crate::db::connect(&url).expect("open");
        #[allow(irrefutable_let_patterns)] // without the `postgres` feature
        let DbConn::Sqlite(c) = &mut conn
        else {
            unreachable!("a path is SQLite")
        };
        // The rows below stand alone, without their connections.
        diesel::sql_query("PRAGMA foreign_keys = OFF")
            .execute(c)
            .expect("pragma");
        loop {
            let pending = c.pending_migrations(SQLITE_MIGRATIONS).expect("pending");
            let next = pending.first().expect("the family migration is pending");
            if next.name().to_string().ends_with("_token_families") {
                break;
            }
            c.run_migration(next.as_ref()).expect("migrate");
        }
        for sql in [
            "INSERT INTO refresh_tokens (hash, connection_id, family_id, parent_hash, scope, \
             created_at, expires_at, used_at, revoked_at, resource) VALUES \
             ('h1', 'c1', 'f1', NULL, 's', 10, 100, 20, NULL, ''), \
             ('h2', 'c1', 'f1', 'h1', 's', 20, 200, NULL, NULL, 'r'), \
             ('h3', 'c2', 'f2', NULL, 't', 30, 300, NULL, 40, '')",
            "INSERT INTO access_tokens (jti, connection_id, family_id, scope, issued_at, \
             expires_at, revoked_at) VALUES ('j1', 'c1', 'f1', 's', 20, 80, NULL), \
             ('j3', 'c2', 'f2', 't', 30, 90, 40), ('j4', 'c3', 'f4', 'u', 5, 50, NULL)",
        ] {
            diesel::sql_query(sql).execute(c).expect("old rows");
        }
        c.run_pending_migrations(SQLITE_MIGRATIONS)
            .expect("the rest");

        let f1 = family(&mut conn, "f1").expect("read").expect("f1");
        assert_eq!(
            (f1.connection_id.as_str(), f1.created_at, f1.revoked_at),
            ("c1", 10, None)
        );
        let f2 = family(&mut conn, "f2").expect("read").expect("f2");
        assert_eq!((f2.connection_id.as_str(), f2.revoked_at), ("c2", Some(40)));
        // A family known only from its access token is a family too.
        let f4 = family(&mut conn, "f4").expect("read").expect("f4");
        assert_eq!((f4.connection_id.as_str(), f4.created_at), ("c3", 5));

        assert_eq!(
            legacy_family(&mut conn, "h2").expect("read").as_deref(),
            Some("f1")
        );
        assert_eq!(legacy_family(&mut conn, "nope").expect("read"), None);
        let (t, f) = refresh_by_key(&mut conn, "f1", "h2")
            .expect("read")
            .expect("h2");
        assert_eq!(
            (t.used_at, t.resource.as_str(), t.expires_at),
            (None, "r", 200)
        );
        assert_eq!(f.id, "f1");
        let (t, _) = refresh_by_key(&mut conn, "f1", "h1")
            .expect("read")
            .expect("h1");
        assert_eq!(t.used_at, Some(20));
        assert!(refresh_by_key(&mut conn, "f2", "h2")
            .expect("read")
            .is_none());

        assert_eq!(
            access_family(&mut conn, "", "j3").expect("read").as_deref(),
            Some("f2")
        );
        assert_eq!(
            access_family(&mut conn, "fx", "j3")
                .expect("read")
                .as_deref(),
            Some("fx")
        );
        assert_eq!(access_family(&mut conn, "", "nope").expect("read"), None);
        // Revoking now is the family's, for its old tokens too.
        revoke_family(&mut conn, "f1", 99).expect("revoke");
        assert_eq!(
            family(&mut conn, "f1")
                .expect("read")
                .expect("f1")
                .revoked_at,
            Some(99)
        );
    }
}
