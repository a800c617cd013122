//! Who is calling the API: `Authorization: Bearer` with one of our access
//! tokens (a JWT verified against our key, `exp` honoured, its `jti`, family
//! and connection still live in the database, so a revoke takes effect at
//! once) or an internal integration token (`ntn_…`, looked up by SHA-256).

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::crypto;
use crate::db::models::{Connection, ConnectionStatus, Integration};
use crate::db::queries::tokens;
use crate::db::{self, Conn};
use crate::domain::integrations::INTERNAL_TOKEN_PREFIX;
use crate::domain::reach::{Grant, Surface};
use crate::error::AppResult;
use crate::state::jwt::Keys;
use crate::state::AppState;

use crate::http::errors::{ApiCode, ApiError};

/// The connection a request acts for.
#[derive(Debug, Clone)]
pub struct Bot {
    pub connection: Connection,
    pub integration: Integration,
    pub scope: String,
    /// Internal integrations act for the workspace, not a user.
    pub internal: bool,
    /// When the connection last called `/mcp`, as read with the token.
    pub mcp_used_at: Option<i64>,
    pub version: ApiVersion,
}

impl Bot {
    /// The grant it acts under through `via`: the only way `/v1`, `/mcp`
    /// and the demo partner read or write for a bot (`domain::reach`).
    pub fn grant(&self, via: Surface) -> Grant<'_> {
        Grant {
            connection: &self.connection,
            scope: &self.scope,
            client_id: &self.integration.client_id,
            via,
            op: None,
        }
    }
}

/// The `Notion-Version` a request speaks (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V2025_09_03,
    V2022_06_28,
}

impl ApiVersion {
    /// The latest when absent; an unknown value is a `validation_error`.
    pub fn from_request(req: &HttpRequest) -> Result<ApiVersion, ApiError> {
        match req.headers().get("notion-version").map(|v| v.to_str()) {
            None => Ok(ApiVersion::V2025_09_03),
            Some(Ok("2025-09-03")) => Ok(ApiVersion::V2025_09_03),
            Some(Ok("2022-06-28")) => Ok(ApiVersion::V2022_06_28),
            _ => Err(ApiError::new(
                ApiCode::ValidationError,
                "Notion-Version must be 2025-09-03 or 2022-06-28.",
            )),
        }
    }
}

/// 401 in Notion's shape, with `WWW-Authenticate` naming the API's
/// protected-resource metadata (RFC 9728 §5.1), and `invalid_token` when a
/// token was sent (RFC 6750 §3.1).
fn unauthorized(issuer: &str, token_sent: bool) -> ApiError {
    let mut w = format!(
        r#"Bearer resource_metadata="{}""#,
        crate::domain::resource::metadata_url(&crate::domain::resource::api(issuer))
    );
    if token_sent {
        w.push_str(r#", error="invalid_token""#);
    }
    ApiError {
        www_authenticate: Some(w),
        ..ApiError::new(ApiCode::Unauthorized, "API token is invalid.")
    }
}

/// The resource a request is for (RFC 8707): each accepts only tokens
/// issued for it (S63).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The Notion-compatible API, which also takes internal integration tokens.
    Api,
    /// The MCP server: OAuth access tokens for `{issuer}/mcp` only.
    Mcp,
}

/// The token of an `Authorization: Bearer` header, and whether an
/// `Authorization` header was sent at all (RFC 6750 §3.1 then asks for
/// `invalid_token`). Shared by `/v1` and `/mcp`.
pub fn bearer_token(headers: &actix_web::http::header::HeaderMap) -> (Option<String>, bool) {
    let sent = headers.get(header::AUTHORIZATION);
    let token = sent
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    (token, sent.is_some())
}

/// Resolves a bearer token to a live connection, or `None`.
pub fn resolve(conn: &mut Conn, keys: &Keys, token: &str) -> AppResult<Option<Bot>> {
    resolve_for(conn, keys, token, Resource::Api)
}

/// Resolves a bearer token for `resource` to a live connection, or `None`.
pub fn resolve_for(
    conn: &mut Conn,
    keys: &Keys,
    token: &str,
    resource: Resource,
) -> AppResult<Option<Bot>> {
    let internal_token = token.starts_with(INTERNAL_TOKEN_PREFIX);
    // Internal tokens are workspace tokens for the API; an agent connects
    // through consent, so /mcp never takes them.
    if internal_token && resource == Resource::Mcp {
        return Ok(None);
    }
    // The token, its connection and integration in one statement.
    let (connection, integration, scope, mcp_used_at) = if internal_token {
        match tokens::internal_grant(conn, &crypto::sha256_hex(token))? {
            Some((connection, integration)) => (connection, integration, None, None),
            None => return Ok(None),
        }
    } else {
        let Some(claims) = keys.verify(conn, token) else {
            return Ok(None);
        };
        // A token for another resource is not for this one (S63).
        let wanted = match resource {
            Resource::Api => keys.audience(),
            Resource::Mcp => crate::domain::resource::mcp(keys.issuer()),
        };
        if claims.aud != wanted {
            return Ok(None);
        }
        let Some((family, connection, integration, used)) =
            tokens::access_grant(conn, &claims.fam, &claims.jti)?
        else {
            return Ok(None);
        };
        if family.revoked_at.is_some() {
            return Ok(None);
        }
        (connection, integration, Some(claims.scope), used)
    };
    if connection.status != ConnectionStatus::Active {
        return Ok(None);
    }
    let scope = scope.unwrap_or_else(|| integration.capabilities.clone());
    Ok(Some(Bot {
        connection,
        integration,
        scope,
        internal: internal_token,
        mcp_used_at,
        version: ApiVersion::V2025_09_03,
    }))
}

/// A `/v1` request's bearer token, not yet looked up: the extractor checks
/// only what needs no database (the `Notion-Version`, that a token was
/// sent), and the handler's one `db::run` resolves the token, counts it
/// against the connection's rate limit and then does the work
/// (`Bearer::run`), so a request takes the database thread once (issue 30).
/// A revoke still takes effect on the next call: nothing is cached.
pub struct Bearer {
    state: web::Data<AppState>,
    req: HttpRequest,
    token: String,
    version: ApiVersion,
}

impl Bearer {
    /// Resolves the token (401 when it is not live), checks the
    /// connection's rate limit (429) and runs `f` for the bot, all in one
    /// trip to the database thread. `f`'s refusals are `/v1`'s; an OAuth
    /// token's scope is noted for the step-up challenge (S102).
    pub async fn run<T, E, F>(self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn, &Bot) -> Result<T, E> + Send + 'static,
        E: Into<ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let Bearer {
            state,
            req,
            token,
            version,
        } = self;
        let st = state.clone();
        let (held, out) = db::run_with(&state.pool, move |c| -> Result<_, ApiError> {
            let Some(mut bot) = resolve(c, &st.keys, &token)? else {
                return Err(unauthorized(&st.config.server.issuer, true));
            };
            bot.version = version;
            if let Some(limiter) = &st.limiter {
                limiter.check_on(c, bot.connection.id.as_str())??;
            }
            let held = (!bot.internal).then(|| bot.scope.clone());
            Ok((held, f(c, &bot).map_err(Into::into)))
        })
        .await?;
        if let Some(scope) = held {
            req.extensions_mut()
                .insert(crate::http::errors::HeldScope(scope));
        }
        out
    }
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Bearer::read(req))
    }
}

impl Bearer {
    fn read(req: &HttpRequest) -> Result<Bearer, ApiError> {
        let version = ApiVersion::from_request(req)?;
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::from(crate::error::AppError::internal("app state missing")))?;
        let (token, sent) = bearer_token(req.headers());
        let token = token.ok_or_else(|| unauthorized(&state.config.server.issuer, sent))?;
        Ok(Bearer {
            state,
            req: req.clone(),
            token,
            version,
        })
    }
}
