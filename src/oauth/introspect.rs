//! `POST /v1/oauth/introspect` (RFC 7662) and `POST /v1/oauth/revoke`
//! (RFC 7009). A client sees and ends only its own tokens; anything else is
//! `{"active":false}` or a silent 200.

use serde_json::{json, Value};

use crate::db::models::{
    now, Connection, ConnectionStatus, Integration, RefreshToken, TokenFamily,
};
use crate::db::queries::{connections, tokens};
use crate::db::{self, Conn};
use crate::domain::audit::{Actor, AuditAction};
use crate::error::AppResult;
use crate::oauth::token::{refresh_key, REFRESH_PREFIX};
use crate::state::jwt::{Claims, Keys};

fn inactive() -> Value {
    json!({ "active": false })
}

/// What the caller may learn about `token`, and whether the token is one
/// this server issued at all (an unknown one counts as a guess, S54).
pub fn introspect(
    conn: &mut Conn,
    keys: &Keys,
    client: &Integration,
    token: &str,
) -> AppResult<(Value, bool)> {
    let known = |v: Value| Ok((v, true));
    let t = now();
    let mine =
        |c: &Connection| c.integration_id == client.id && c.status == ConnectionStatus::Active;
    if token.starts_with(REFRESH_PREFIX) {
        let Some((row, family)) = refresh_row(conn, token)? else {
            return Ok((inactive(), false));
        };
        let Some(connection) = connections::by_id(conn, &family.connection_id)? else {
            return known(inactive());
        };
        if !mine(&connection)
            || family.revoked_at.is_some()
            || row.used_at.is_some()
            || row.expires_at <= t
        {
            return known(inactive());
        }
        // A refresh token may mint for any of its grant's resources (RFC
        // 8707 §2.2): `aud` lists them, a single one as a string.
        let resources = crate::domain::resource::of_grant(keys.issuer(), &row.resource);
        let aud = match resources.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        return known(json!({
            "active": true,
            "scope": row.scope,
            "client_id": client.client_id,
            "sub": connection.bot_id,
            "bot_id": connection.bot_id,
            "workspace_id": connection.workspace_id,
            "aud": aud,
            // RFC 6749 §7.1 registers token types for access tokens only;
            // `refresh_token` is what node-oidc-provider answers for one
            // (docs/notes-25-clients.md).
            "token_type": "refresh_token",
            "exp": row.expires_at,
            "iat": row.created_at,
            "iss": keys.issuer(),
        }));
    }
    let Some(claims) = keys.verify(conn, token) else {
        // Expired tokens we signed are known, not guesses.
        let ours = keys.verify_ignoring_expiry(conn, token).is_some();
        return Ok((inactive(), ours));
    };
    // The family and its connection in one statement (the bearer check's).
    let Some((family, connection, _, _)) = tokens::access_grant(conn, &claims.fam, &claims.jti)?
    else {
        return known(inactive());
    };
    if !mine(&connection) || family.revoked_at.is_some() || claims.client_id != client.client_id {
        return known(inactive());
    }
    known(json!({
        "active": true,
        "scope": claims.scope,
        "client_id": client.client_id,
        "sub": claims.sub,
        "bot_id": connection.bot_id,
        "workspace_id": connection.workspace_id,
        // The resource the token was minted for, so a resource server can
        // enforce RFC 8707 audience binding from introspection alone.
        "aud": claims.aud,
        // RFC 6749 §7.1 / RFC 6750: the registered type's name is "Bearer".
        "token_type": "Bearer",
        "exp": claims.exp,
        "iat": claims.iat,
        "iss": claims.iss,
    }))
}

/// Ends the connection behind `token` when it is the caller's: every token
/// family of it is revoked and it is marked revoked. Unknown tokens and other
/// clients' tokens change nothing. Answers whether the token was one this
/// server issued (an unknown one counts as a guess, S54).
pub fn revoke(conn: &mut Conn, keys: &Keys, client: &Integration, token: &str) -> AppResult<bool> {
    let family = if token.starts_with(REFRESH_PREFIX) {
        refresh_row(conn, token)?.map(|(_, f)| f)
    } else {
        match keys.verify_ignoring_expiry(conn, token) {
            Some(claims) => access_family_row(conn, &claims)?,
            None => None,
        }
    };
    let connection_id = family.map(|f| f.connection_id);
    let Some(id) = connection_id else {
        return Ok(false);
    };
    db::write_tx(conn, |c| {
        let Some(connection) = connections::by_id(c, &id)? else {
            return Ok(true);
        };
        if connection.integration_id != client.id {
            return Ok(true);
        }
        crate::domain::connections::end_as(
            c,
            &connection,
            Actor::Client(&client.client_id),
            None,
            AuditAction::ConnectionRevoked,
            format!("{} revoked its token", client.name),
        )?;
        Ok(true)
    })
}

/// A refresh token's row and its family's, by the token as sent.
fn refresh_row(conn: &mut Conn, token: &str) -> AppResult<Option<(RefreshToken, TokenFamily)>> {
    match refresh_key(conn, token)? {
        Some((family, hash)) => Ok(tokens::refresh_by_key(conn, &family, &hash)?),
        None => Ok(None),
    }
}

/// The family row of an access token we signed (`claims`).
fn access_family_row(conn: &mut Conn, claims: &Claims) -> AppResult<Option<TokenFamily>> {
    match tokens::access_family(conn, &claims.fam, &claims.jti)? {
        Some(id) => Ok(tokens::family(conn, &id)?),
        None => Ok(None),
    }
}
