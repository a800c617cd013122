//! `POST /v1/oauth/token`: the authorization-code and refresh-token grants.
//! Each grant is one write transaction (`BEGIN IMMEDIATE` on SQLite; at the
//! endpoint, a savepoint in the grant writer's batch, `db::group`) whose
//! single-use steps are conditional UPDATEs, so parallel redemptions have
//! exactly one winner (S28, S34); on PostgreSQL the step and the tokens it
//! issues are one statement (`tokens::spend_and_insert`). The access token
//! is signed after the grant commits. A refused request is
//! `Err(AppError::Refused)` from a
//! `db::write_tx_refusing` transaction, so what it must write (a replay's
//! revocation, S29) still commits.

use actix_web::web;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::crypto;
use crate::db::models::{
    now, Connection, ConnectionStatus, Integration, RefreshToken, User, Workspace,
};
use crate::db::queries::tokens::Spend;
use crate::db::queries::{integrations, oauth as q, tokens, users};
use crate::db::{self, Conn};
use crate::domain::resource;
use crate::error::{AppError, AppResult, Capability, Refusal};
use crate::oauth::client::Params;
use crate::state::jwt::{Claims, Keys};
use crate::state::AppState;

pub const REFRESH_PREFIX: &str = "nrt_";
/// Ends the family's id in a refresh token (`nrt_<family>.<secret>`): a
/// UUID and a base64url secret never contain it.
const FAMILY_END: char = '.';

/// The key of a refresh token's row: its family and its SHA-256. A token
/// names its family; one issued before tokens did (`nrt_<secret>`) is found
/// by its hash. `None` for what is not a refresh token of ours.
pub fn refresh_key(conn: &mut Conn, token: &str) -> AppResult<Option<(String, String)>> {
    let Some(rest) = token.strip_prefix(REFRESH_PREFIX) else {
        return Ok(None);
    };
    let hash = crypto::sha256_hex(token);
    let family = match rest.split_once(FAMILY_END) {
        Some((family, _)) => Some(family.to_string()),
        None => tokens::legacy_family(conn, &hash)?,
    };
    Ok(family.map(|f| (f, hash)))
}

/// What a grant's transaction decided: the response, still to be signed.
type Decided = AppResult<Minted>;

fn refuse(r: Refusal) -> Decided {
    Err(r.into())
}

/// `invalid_request`, said inside a grant's transaction.
fn missing(what: &str) -> Refusal {
    Refusal::Invalid(what.to_string())
}

/// Signs the access token of a committed grant, outside the transaction:
/// the ECDSA work does not hold SQLite's write lock (its family is already
/// written, so a token that fails to sign is merely never used).
fn signed(conn: &mut Conn, keys: &Keys, decided: Decided) -> AppResult<Value> {
    let Minted { claims, body } = decided?;
    let access = keys.sign(conn, &claims)?;
    Ok(with_access(body, access))
}

fn with_access(mut body: Value, access: String) -> Value {
    body["access_token"] = Value::String(access);
    body
}

/// Runs the grant named by `grant_type` for an authenticated client, in a
/// transaction of its own, and signs its access token (the demo partner's
/// in-process exchange).
pub fn grant(
    conn: &mut Conn,
    cfg: &Config,
    keys: &Keys,
    client: &Integration,
    p: &Params,
) -> AppResult<Value> {
    let decided = db::write_tx_refusing(conn, |c| decide(c, cfg, keys, client, p));
    signed(conn, keys, decided)
}

/// The grant named by `grant_type`, written but not yet signed: the token
/// endpoint runs this in the grant writer's batch and signs with `sign`
/// once the batch has committed. It runs inside a transaction that keeps
/// a refusal's writes and rolls back on any other error: the endpoint's
/// `db::write_tx_refusing_or_held` (the writer's savepoint on SQLite, a
/// transaction of its own on PostgreSQL), or `grant`'s
/// `write_tx_refusing`.
pub fn decide(
    conn: &mut Conn,
    cfg: &Config,
    keys: &Keys,
    client: &Integration,
    p: &Params,
) -> AppResult<Minted> {
    match p.get("grant_type") {
        None => refuse(missing("grant_type is missing")),
        Some("authorization_code") => exchange_code(conn, cfg, keys, client, p),
        Some("refresh_token") => refresh(conn, cfg, keys, client, p),
        Some(_) => refuse(Refusal::GrantType),
    }
}

/// Signs a committed grant's access token: on the caller's thread while the
/// key set is fresh (no trip to the database thread), through the database
/// when the set must be re-read first.
pub async fn sign(state: &web::Data<AppState>, minted: Minted) -> AppResult<Value> {
    let Minted { claims, body } = minted;
    if !state.keys.stale() {
        let access = state.keys.sign_now(&claims)?;
        return Ok(with_access(body, access));
    }
    let st = state.clone();
    let access = db::run(&state.pool, move |c| st.keys.sign(c, &claims)).await?;
    Ok(with_access(body, access))
}

/// A PKCE verifier: 43 to 128 unreserved characters (RFC 7636 §4.1).
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn bad_code() -> Refusal {
    Refusal::Grant("the authorization code is invalid, expired, or already used".into())
}

fn exchange_code(
    conn: &mut Conn,
    cfg: &Config,
    keys: &Keys,
    client: &Integration,
    p: &Params,
) -> Decided {
    let Some(code) = p.get("code") else {
        return refuse(missing("code is missing"));
    };
    let hash = crypto::sha256_hex(code);
    let sent_redirect = p.get("redirect_uri").map(String::from);
    let resource_asked = p.get("resource");
    let verifier = p.get("code_verifier").map(String::from);
    let c = conn;
    let t = now();
    // The code, its connection and what the response names: one read.
    let Some((row, grantee)) = q::code_with_grantee(c, &hash)? else {
        return refuse(bad_code());
    };
    // Bound to its client (S26).
    if row.integration_id != client.id {
        return refuse(bad_code());
    }
    // Bound to the redirect URI as sent at authorize (S27).
    let redirect_ok = match (&row.redirect_uri, &sent_redirect) {
        (Some(r), Some(s)) => r == s,
        (Some(_), None) => false,
        (None, None) => true,
        (None, Some(s)) => integrations::redirect_uris(c, &client.id)?.as_slice() == [s.clone()],
    };
    if !redirect_ok {
        return refuse(Refusal::Grant(
            "redirect_uri does not match the authorization request".into(),
        ));
    }
    // PKCE (S18, S19).
    match (&row.code_challenge, &verifier) {
        (Some(challenge), Some(v)) => {
            if !valid_verifier(v) || !crypto::constant_time_eq(&s256(v), challenge) {
                return refuse(Refusal::Grant(
                    "code_verifier does not match the code_challenge".into(),
                ));
            }
        }
        (Some(_), None) => return refuse(Refusal::Grant("code_verifier is missing".into())),
        (None, Some(_)) => {
            return refuse(Refusal::Grant(
                "code_verifier was sent for a code issued without code_challenge".into(),
            ))
        }
        (None, None) => {}
    }
    // A valid replay: whatever the first redemption issued dies (S29).
    if row.consumed_at.is_some() {
        if let Some(family) = &row.family_id {
            tokens::revoke_family(c, family, t)?;
            tracing::warn!(connection = %row.connection_id, "authorization code replayed; its tokens are revoked");
        }
        return refuse(bad_code());
    }
    if row.expires_at <= t {
        return refuse(bad_code());
    }
    // Families are time-ordered ids, so their index entries append.
    let family = crypto::new_ordered_id();
    let (connection, workspace, installer) = &grantee;
    let active = connection.status == ConnectionStatus::Active;
    let aud = match (
        resource::audience(keys.issuer(), &row.resource, resource_asked),
        active,
    ) {
        (Ok(aud), true) => aud,
        (aud, active) => {
            // Refused, and the code is spent all the same (one try each).
            if !q::consume_code(c, &hash, &family, t)? {
                return lost_race(c, &hash, t);
            }
            return match aud {
                Err(why) if active => refuse(Refusal::Target(why.into())),
                _ => refuse(bad_code()),
            };
        }
    };
    let grant = Grant {
        scope: &row.scope,
        resource: &row.resource,
        aud: &aud,
    };
    let named = Named {
        connection,
        workspace,
        installer,
    };
    let spend = Spend::Code {
        hash: &hash,
        connection: &connection.id,
    };
    match mint(c, cfg, keys, client, named, &family, grant, spend)? {
        Some(minted) => Ok(minted),
        None => lost_race(c, &hash, t),
    }
}

/// The code was consumed by a concurrent redemption between our read and
/// our UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them): a
/// replay like any other, so what it issued dies too (S29).
fn lost_race(c: &mut Conn, hash: &str, t: i64) -> Decided {
    if let Some(family) = q::code_by_hash(c, hash)?.and_then(|r| r.family_id) {
        tokens::revoke_family(c, &family, t)?;
    }
    refuse(bad_code())
}

fn bad_refresh() -> Refusal {
    Refusal::Grant("the refresh token is invalid, expired, revoked, or already used".into())
}

fn refresh(
    conn: &mut Conn,
    cfg: &Config,
    keys: &Keys,
    client: &Integration,
    p: &Params,
) -> Decided {
    let Some(token) = p.get("refresh_token") else {
        return refuse(missing("refresh_token is missing"));
    };
    let grace = cfg.tokens.refresh_reuse_grace_s;
    let resource_asked = p.get("resource");
    let c = conn;
    let t = now();
    let Some((family, hash)) = refresh_key(c, token)? else {
        return refuse(bad_refresh());
    };
    // The token, its family, its connection and what the response names:
    // one read.
    let Some((row, family_row, (connection, workspace, installer))) =
        tokens::refresh_with_grantee(c, &family, &hash)?
    else {
        return refuse(bad_refresh());
    };
    let revoked = family_row.revoked_at.is_some();
    // Bound to its client (S35); another client learns nothing and changes nothing.
    if connection.integration_id != client.id {
        return refuse(bad_refresh());
    }
    if revoked || row.expires_at <= t || connection.status != ConnectionStatus::Active {
        return refuse(bad_refresh());
    }
    // A used token: a retry inside the grace window gets a fresh
    // successor and the first stays valid; anything else is reuse, and
    // the family is compromised (S34).
    let retry = match row.used_at {
        Some(used) => {
            if grace == 0 || t - used > grace {
                tokens::revoke_family(c, &family, t)?;
                tracing::warn!(connection = %connection.id, "refresh token reused; its family is revoked");
                return refuse(bad_refresh());
            }
            true
        }
        None => false,
    };
    // A refresh may narrow the audience to one of the grant's
    // resources, never reach beyond them (RFC 8707 §2.2, S63). Judged
    // after reuse, so a replayed token still revokes its family, and
    // before the token is used, so a refused one stays usable.
    let aud = match resource::audience(keys.issuer(), &row.resource, resource_asked) {
        Ok(a) => a,
        Err(why) => return refuse(Refusal::Target(why.into())),
    };
    let named = Named {
        connection: &connection,
        workspace: &workspace,
        installer: &installer,
    };
    let grant = Grant {
        scope: &row.scope,
        resource: &row.resource,
        aud: &aud,
    };
    // A retry spends nothing: its token was used by the first try.
    let spend = match retry {
        true => Spend::Nothing,
        false => Spend::Refresh { hash: &hash },
    };
    let minted = mint(c, cfg, keys, client, named, &family, grant, spend)?;
    match minted {
        Some(minted) => Ok(minted),
        // Used by a concurrent rotation since our read: reuse (S34).
        None => {
            tokens::revoke_family(c, &family, t)?;
            refuse(bad_refresh())
        }
    }
}

/// What a token is minted from: the grant's scope and resources, and the
/// audience chosen for this access token.
#[derive(Clone, Copy)]
struct Grant<'a> {
    scope: &'a str,
    resource: &'a str,
    aud: &'a str,
}

/// The rows a token response names: the connection, its workspace and
/// its installer, read in one statement
/// (`oauth::code_with_grantee`, `tokens::refresh_with_grantee`).
#[derive(Clone, Copy)]
struct Named<'a> {
    connection: &'a Connection,
    workspace: &'a Workspace,
    installer: &'a User,
}

/// A grant's rows, written: the access token's claims (signed after the
/// transaction commits) and the rest of the token response.
pub struct Minted {
    claims: Claims,
    body: Value,
}

/// Spends `spend` and writes the grant's two tokens in `family`
/// (`tokens::spend_and_insert`: one statement on PostgreSQL), and builds
/// the token response of DESIGN §4; `None` when `spend` was already spent,
/// and nothing was written.
#[allow(clippy::too_many_arguments)]
fn mint(
    c: &mut Conn,
    cfg: &Config,
    keys: &Keys,
    client: &Integration,
    named: Named<'_>,
    family: &str,
    grant: Grant<'_>,
    spend: Spend<'_>,
) -> AppResult<Option<Minted>> {
    let Named {
        connection,
        workspace,
        installer,
    } = named;
    let scope = grant.scope;
    let t = now();
    let jti = crypto::new_jti();
    let exp = t + cfg.tokens.access_ttl_s;
    let claims = Claims {
        iss: keys.issuer().to_string(),
        sub: connection.bot_id.to_string(),
        aud: grant.aud.to_string(),
        client_id: client.client_id.clone(),
        workspace_id: connection.workspace_id.to_string(),
        jti: jti.clone(),
        iat: t,
        exp,
        scope: scope.to_string(),
        fam: family.to_string(),
    };
    // The token names its family, so its row is found by the table's key
    // (family, hash) and a rotation writes next to the token it used.
    let refresh = format!(
        "{REFRESH_PREFIX}{family}{FAMILY_END}{}",
        crypto::random_secret()
    );
    let row = RefreshToken {
        family_id: family.to_string(),
        hash: crypto::sha256_hex(&refresh),
        scope: scope.to_string(),
        created_at: t,
        expires_at: t + cfg.tokens.refresh_ttl_s,
        used_at: None,
        resource: grant.resource.to_string(),
    };
    if !tokens::spend_and_insert(c, spend, t, &row)? {
        return Ok(None);
    }
    let owner = owner_json(installer, scope);
    let body = json!({
        "token_type": "bearer",
        "expires_in": cfg.tokens.access_ttl_s,
        "refresh_token": refresh,
        "scope": scope,
        "bot_id": connection.bot_id,
        "workspace_id": workspace.id,
        "workspace_name": workspace.name,
        "workspace_icon": workspace.icon,
        "owner": { "type": "user", "user": owner },
        "duplicated_template_id": null,
        "request_id": crypto::new_uuid(),
    });
    Ok(Some(Minted { claims, body }))
}

/// The installing user as Notion shows it; the email only with
/// `read_user_with_email`.
pub fn owner_user(c: &mut Conn, connection: &Connection, scope: &str) -> AppResult<Value> {
    let user = users::by_id(c, &connection.installed_by)?
        .ok_or_else(|| AppError::internal("connection without installer"))?;
    Ok(owner_json(&user, scope))
}

/// `owner_user` for a user already read.
fn owner_json(user: &User, scope: &str) -> Value {
    let person = if Capability::ReadUserWithEmail.in_text(scope) {
        json!({ "email": user.email })
    } else {
        json!({})
    };
    json!({
        "object": "user",
        "id": user.id,
        "name": user.name,
        "avatar_url": user.avatar_url,
        "type": "person",
        "person": person,
    })
}
