//! Who is calling `/mcp`: an OAuth access token issued for `{issuer}/mcp`
//! (RFC 8707 audience; S63), resolved exactly as `/v1` resolves its tokens
//! (`api::bearer::resolve_for`: signature, expiry, the token and its
//! connection still live, so a disconnect stops the next call) and counted
//! by the same per-connection limiter. Without one: 401 with
//! `WWW-Authenticate: Bearer resource_metadata=…` (RFC 9728 §5.1; S64).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use serde_json::json;

use crate::api::bearer::{self, Bot, Resource};
use crate::db;
use crate::domain::connections;
use crate::domain::resource;
use crate::http::errors::ApiError;
use crate::state::AppState;

/// The grant a request to `/mcp` acts under, handed to the tools.
#[derive(Clone)]
pub struct Caller {
    pub bot: Bot,
    pub state: web::Data<AppState>,
}

/// 401 in RFC 6750's terms: the challenge names the protected-resource
/// metadata, and `invalid_token` when a token was sent.
fn unauthorized(issuer: &str, token_sent: bool) -> HttpResponse {
    let mut challenge = format!(
        r#"Bearer resource_metadata="{}""#,
        resource::metadata_url(&resource::mcp(issuer))
    );
    let body = if token_sent {
        challenge.push_str(r#", error="invalid_token", error_description="The access token is not valid for this resource, has expired or was revoked.""#);
        json!({ "error": "invalid_token", "error_description": "The access token is not valid for this resource, has expired or was revoked." })
    } else {
        json!({ "error": "invalid_token", "error_description": "This MCP server needs an OAuth access token; see the resource metadata in WWW-Authenticate." })
    };
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::from(crate::error::AppError::internal("app state missing")).into());
    };
    let issuer = state.config.server.issuer.clone();
    let (token, sent) = bearer::bearer_token(req.headers());
    let Some(token) = token else {
        return Ok(req.into_response(unauthorized(&issuer, sent)));
    };
    let Some(bot) = resolve(&state, token).await? else {
        return Ok(req.into_response(unauthorized(&issuer, true)));
    };
    if let Some(refused) = over_limit(&state, &bot) {
        return Ok(req.into_response(refused));
    }
    req.extensions_mut().insert(Caller { bot, state });
    let json_sent = json_sent(&req);
    let res = next.call(req).await?.map_into_boxed_body();
    Ok(parse_error(json_sent, res))
}

/// The bot an access token for `/mcp` names, if it is live; its use is noted.
async fn resolve(state: &web::Data<AppState>, token: String) -> Result<Option<Bot>, ApiError> {
    let st = state.clone();
    Ok(db::run(&state.pool, move |c| {
        let bot = bearer::resolve_for(c, &st.keys, &token, Resource::Mcp)?;
        if let Some(b) = &bot {
            connections::note_mcp_use(c, &b.connection.id, crate::db::models::now())?;
        }
        Ok(bot)
    })
    .await?)
}

/// 429 with Retry-After, as at /v1: what an MCP client reads.
fn over_limit(state: &AppState, bot: &Bot) -> Option<HttpResponse> {
    let limiter = state.limiter.as_ref()?;
    let e = limiter.check(bot.connection.id.as_str()).err()?;
    Some(ApiError::from(e).error_response())
}

fn json_sent(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The transport answers a JSON body it cannot read with a plain-text 415;
/// JSON-RPC's answer to that is a parse error (-32700).
fn parse_error(json_sent: bool, res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    if json_sent && res.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        let body = json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": { "code": -32700, "message": "Parse error: the body is not a JSON-RPC message." }
        });
        return res.into_response(HttpResponse::BadRequest().json(body));
    }
    res
}
