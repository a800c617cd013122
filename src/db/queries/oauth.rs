//! Pending consent requests and authorization codes.

use diesel::prelude::*;

use crate::db::models::{
    AuthorizationCode, AuthorizationRequest, Connection, User, UserId, Workspace,
};
use crate::db::prepared::{prepared, Arg};
use crate::db::queries::connections::Grantee;
use crate::db::schema::{
    authorization_codes, authorization_requests, connections, sessions, users, workspaces,
};
use crate::db::Conn;

pub fn insert_request(conn: &mut Conn, r: &AuthorizationRequest) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(authorization_requests::table)
            .values(r)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn request_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<AuthorizationRequest>> {
    crate::db::native!(conn, |nc| {
        authorization_requests::table
            .find(id)
            .select(AuthorizationRequest::as_select())
            .first(nc)
            .optional()
    })
}

/// Marks a pending request used; false when it was already used or has expired,
/// so two racing approvals cannot both pass.
pub fn consume_request(conn: &mut Conn, id: &str, now: i64) -> QueryResult<bool> {
    crate::db::native!(conn, |nc| {
        diesel::update(
            authorization_requests::table
                .filter(authorization_requests::id.eq(id))
                .filter(authorization_requests::consumed_at.is_null())
                .filter(authorization_requests::expires_at.gt(now)),
        )
        .set(authorization_requests::consumed_at.eq(now))
        .execute(nc)
        .map(|n| n == 1)
    })
}

pub fn delete_expired_requests(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(
            authorization_requests::table.filter(authorization_requests::expires_at.le(now)),
        )
        .execute(nc)
    })
}

/// The ids of `$requests` past the newest `$keep` other than `$newest`
/// (a macro, not a function: inside `native!` the query's type differs per
/// backend).
macro_rules! past_kept {
    ($requests:expr, $newest:expr, $keep:expr) => {
        $requests
            .filter(authorization_requests::id.ne($newest))
            .order((
                authorization_requests::created_ms.desc(),
                authorization_requests::id.desc(),
            ))
            .offset($keep)
            .select(authorization_requests::id)
    };
}

/// Keeps the newest `keep` pending requests of a session besides `newest`
/// (the one just recorded) and deletes the rest, so one session cannot fill
/// the disk through the consent page (issue 15 #3).
pub fn trim_session_requests(
    conn: &mut Conn,
    session_id_hash: &str,
    newest: &str,
    keep: i64,
) -> QueryResult<usize> {
    // A statement of fixed shape (no list of values bound), so each pooled
    // connection prepares it once: it runs on every consent page view.
    let older: Vec<String> = crate::db::native!(conn, |nc| {
        past_kept!(
            authorization_requests::table
                .filter(authorization_requests::session_id_hash.eq(session_id_hash)),
            newest,
            keep
        )
        .load(nc)
    })?;
    delete_requests(conn, older)
}

/// `trim_session_requests` across every session of one user.
pub fn trim_user_requests(
    conn: &mut Conn,
    user: &UserId,
    newest: &str,
    keep: i64,
) -> QueryResult<usize> {
    // The user's sessions as a subquery rather than a bound list, for the
    // same reason.
    let older: Vec<String> = crate::db::native!(conn, |nc| {
        past_kept!(
            authorization_requests::table.filter(
                authorization_requests::session_id_hash.eq_any(
                    sessions::table
                        .filter(sessions::user_id.eq(user))
                        .select(sessions::id_hash),
                ),
            ),
            newest,
            keep
        )
        .load(nc)
    })?;
    delete_requests(conn, older)
}

/// Deletes the pending requests `ids` (none, usually).
fn delete_requests(conn: &mut Conn, ids: Vec<String>) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(authorization_requests::table.filter(authorization_requests::id.eq_any(ids)))
        .execute(conn)
}

/// Deletes a connection's unredeemed codes and its installer's pending
/// consents for the same integration and workspace: once a connection is
/// disconnected or revoked, nothing issued before may bring it back
/// (issue 15 #6). Deleted rather than marked used, so a later redemption is
/// an unknown code, not a replay that would revoke a newer grant's tokens.
pub fn end_pending_of_connection(conn: &mut Conn, c: &Connection) -> QueryResult<()> {
    diesel::delete(
        authorization_codes::table
            .filter(authorization_codes::connection_id.eq(&c.id))
            .filter(authorization_codes::consumed_at.is_null()),
    )
    .execute(conn)?;
    let installer_sessions = sessions::table
        .filter(sessions::user_id.eq(&c.installed_by))
        .select(sessions::id_hash);
    diesel::delete(
        authorization_requests::table
            .filter(authorization_requests::integration_id.eq(&c.integration_id))
            .filter(authorization_requests::workspace_id.eq(&c.workspace_id))
            .filter(authorization_requests::session_id_hash.eq_any(installer_sessions)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn insert_code(conn: &mut Conn, c: &AuthorizationCode) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(authorization_codes::table)
            .values(c)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn code_by_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<AuthorizationCode>> {
    crate::db::native!(conn, |nc| {
        authorization_codes::table
            .find(hash)
            .select(AuthorizationCode::as_select())
            .first(nc)
            .optional()
    })
}

/// A code with its connection, the connection's workspace and its
/// installer, in one statement: what its redemption checks and what the
/// token response names (one round trip fewer per exchange on PostgreSQL
/// than reading the code and then its connection).
pub fn code_with_grantee(
    conn: &mut Conn,
    hash: &str,
) -> QueryResult<Option<(AuthorizationCode, Grantee)>> {
    crate::db::native!(conn, |nc| {
        authorization_codes::table
            .inner_join(
                connections::table.on(connections::id.eq(authorization_codes::connection_id)),
            )
            .inner_join(workspaces::table.on(workspaces::id.eq(connections::workspace_id)))
            .inner_join(users::table.on(users::id.eq(connections::installed_by)))
            .filter(authorization_codes::code_hash.eq(hash))
            .select((
                AuthorizationCode::as_select(),
                Connection::as_select(),
                Workspace::as_select(),
                User::as_select(),
            ))
            .first(nc)
            .optional()
    })
    .map(|row| row.map(|(code, c, w, u)| (code, (c, w, u))))
}

/// `consume_code`'s UPDATE ($1 now, $2 the code's hash, $3 the family),
/// which is also the spend of PostgreSQL's one-statement grant
/// (`tokens::spend_and_insert`): one text, so the two cannot part.
macro_rules! consume_code_sql {
    () => {
        "UPDATE authorization_codes SET consumed_at = $1, family_id = $3 \
         WHERE code_hash = $2 AND consumed_at IS NULL AND expires_at > $1"
    };
}
pub(crate) use consume_code_sql;

/// Consumes a live code in one conditional UPDATE, recording the token
/// family its redemption starts: of several parallel redemptions exactly
/// one sees `true`.
pub fn consume_code(conn: &mut Conn, hash: &str, family: &str, now: i64) -> QueryResult<bool> {
    // A constant text diesel caches (its DSL never caches an UPDATE).
    let q = prepared(consume_code_sql!())
        .bind(Arg::BigInt(now))
        .bind(Arg::Text(hash.to_string()))
        .bind(Arg::Text(family.to_string()));
    crate::db::native!(conn, |nc| q.execute(nc).map(|n| n == 1))
}
