//! Who is calling `/mcp`: an OAuth access token issued for `{issuer}/mcp`
//! (RFC 8707 audience; S63), resolved exactly as `/v1` resolves its tokens
//! (`api::bearer::resolve_for`: signature, expiry, the token and its
//! connection still live, so a disconnect stops the next call) and counted
//! by the same per-connection limiter. Without one: 401 with
//! `WWW-Authenticate: Bearer resource_metadata=…, scope="read_content"`
//! (RFC 9728 §5.1; S64; MCP 2025-11-25 scope selection: an agent asks for
//! reading first). A `tools/call` the token's capabilities do not allow is
//! answered here, before the transport, with 403 and the step-up challenge
//! (RFC 6750 §3.1 `insufficient_scope`; S102). A request through another
//! host name than the issuer's is told the right URL (S104).

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use serde_json::{json, Value};

use std::sync::{Arc, OnceLock};

use crate::api::bearer::{self, Bot};
use crate::db;
use crate::domain::resource;
use crate::error::Capability;
use crate::http::errors::ApiError;
use crate::state::AppState;

use super::caller::{self, Caller, Refused};

/// The hosts the transport accepts in `Host` (rmcp's DNS-rebinding check):
/// the issuer's, with and without its port. Another name, even another
/// loopback name for a loopback issuer, is answered before the transport
/// by `foreign_host`, naming `{issuer}/mcp` (issue 29 item 7): the token's
/// resource and the protected-resource metadata are the issuer's, so a
/// client that came through another name would fail later on the RFC 9728
/// resource check without saying why.
pub fn allowed_hosts(issuer: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(u) = url::Url::parse(issuer) {
        if let Some(host) = u.host_str() {
            out.push(host.to_string());
            if let Some(port) = u.port_or_known_default() {
                out.push(format!("{host}:{port}"));
            }
        }
    }
    out
}

/// `allowed_hosts` of the issuer, worked out once when `/mcp` is mounted
/// rather than by parsing the issuer's URL on every request.
pub struct Hosts(pub Vec<String>);

/// The largest request body `/mcp` reads: a tool call is a small JSON-RPC
/// object, and Markdown content is capped well below this by the tools.
pub const MAX_BODY: usize = 1024 * 1024;

/// 401 in RFC 6750's terms: the challenge names the protected-resource
/// metadata and the scope to ask for first (reading), and `invalid_token`
/// when a token was sent.
fn unauthorized(issuer: &str, token_sent: bool) -> HttpResponse {
    let mut challenge = format!(
        r#"Bearer resource_metadata="{}", scope="{}""#,
        resource::metadata_url(&resource::mcp(issuer)),
        Capability::join(resource::MCP_FIRST)
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
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::from(crate::error::AppError::internal("app state missing")).into());
    };
    let issuer = state.config.server.issuer.clone();
    let token = match presented(&req, &issuer) {
        Ok(token) => token,
        Err(refused) => return Ok(req.into_response(*refused)),
    };
    let json_sent = json_sent(&req);
    let call = match read_call(&mut req, json_sent).await? {
        Ok(call) => call,
        Err(refused) => return Ok(req.into_response(refused)),
    };
    let (caller, refused) = match admit(&state, &issuer, token, call.as_ref()).await? {
        Ok(admitted) => admitted,
        Err(refused) => return Ok(req.into_response(refused)),
    };
    req.extensions_mut().insert(caller);
    let res = next.call(req).await?.map_into_boxed_body();
    if let Some(why) = refused.and_then(|r| r.get().copied()) {
        return Ok(res.into_response(refusal(&issuer, why)));
    }
    sized(parse_error(json_sent, res)).await
}

/// A JSON answer, which the transport hands over whole but as a stream
/// (chunked on the wire), sent with its length instead: one write with
/// `Content-Length`, as `/v1` answers. A stream of events stays a stream.
async fn sized(
    res: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json || res.response().body().size() != BodySize::Stream {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = gather(body, usize::MAX).await.map_err(|e| {
        let why = match e {
            Unread::Failed(e) => e.to_string(),
            Unread::TooLarge => "the answer is too large".into(),
        };
        ApiError::from(crate::error::AppError::internal(why))
    })?;
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))))
}

/// A body read whole, as `actix_web::body::to_bytes_limited` reads it but
/// without its first 32 KiB buffer: a body that comes in one chunk (a tool
/// call; the transport's JSON answer) is that chunk, neither copied nor
/// buffered, and only a second chunk starts a buffer, sized for both. Every
/// `/mcp` call read two bodies that way, and each 32 KiB allocation made
/// glibc consolidate its bins of small free chunks first: a tenth of a
/// call's allocator time.
async fn gather<B: MessageBody>(body: B, limit: usize) -> Result<Bytes, Unread<B::Error>> {
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        let chunk = chunk.map_err(Unread::Failed)?;
        let had = first.as_ref().map_or(rest.len(), Bytes::len);
        if had.saturating_add(chunk.len()) > limit {
            return Err(Unread::TooLarge);
        }
        match first.take() {
            None if rest.is_empty() => first = Some(chunk),
            earlier => {
                if let Some(earlier) = earlier {
                    rest.reserve(earlier.len() + chunk.len());
                    rest.extend_from_slice(&earlier);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| rest.freeze()))
}

/// Why `gather` did not read a body.
enum Unread<E> {
    /// It passed the limit.
    TooLarge,
    /// The body itself failed (the connection, the transport).
    Failed(E),
}

/// The bearer token sent through the issuer's host name, or the answer:
/// the right URL (S104), or 401 naming the metadata (S64).
fn presented(req: &ServiceRequest, issuer: &str) -> Result<String, Box<HttpResponse>> {
    if let Some(refused) = foreign_host(req, issuer) {
        return Err(Box::new(refused));
    }
    let (token, sent) = bearer::bearer_token(req.headers());
    token.ok_or_else(|| Box::new(unauthorized(issuer, sent)))
}

/// A `tools/call` as `step_up` reads it.
struct ToolCall {
    id: Value,
    tool: String,
    args: Value,
}

/// The caller for this request, or the answer refusing it. A tools/call
/// whose token verifies offline for `/mcp` and whose signed scope allows
/// the call is left to the tool's trip (`Caller::unchecked`, with the cell
/// its trip notes a refusal in); anything else is resolved here first.
async fn admit(
    state: &web::Data<AppState>,
    issuer: &str,
    token: String,
    call: Option<&ToolCall>,
) -> Result<Result<(Caller, Option<Arc<OnceLock<Refused>>>), HttpResponse>, ApiError> {
    if let Some(call) = call {
        let claims = state.keys.verify_offline(&token);
        if let Some(claims) = claims.filter(|c| c.aud == resource::mcp(issuer)) {
            if super::tools::lacking(&call.tool, &call.args, &claims.scope).is_empty() {
                let cell = Arc::new(OnceLock::new());
                let caller = Caller::unchecked(state.clone(), token, claims.scope, cell.clone());
                return Ok(Ok((caller, Some(cell))));
            }
        }
    }
    let st = state.clone();
    let found = db::run(&state.pool, move |c| caller::resolve(c, &st, &token)).await?;
    let bot = match found {
        Ok(bot) => bot,
        Err(why) => return Ok(Err(refusal(issuer, why))),
    };
    if let Some(refused) = call.and_then(|call| step_up(issuer, &bot, call)) {
        return Ok(Err(refused));
    }
    Ok(Ok((Caller::live(state.clone(), bot), None)))
}

/// The HTTP answer to a caller refused by its token or its rate limit.
fn refusal(issuer: &str, why: Refused) -> HttpResponse {
    match why {
        Refused::Token => unauthorized(issuer, true),
        // 429 with Retry-After, as at /v1: what an MCP client reads.
        Refused::Limit(limited) => ApiError::from(limited).error_response(),
    }
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

/// A JSON-RPC error answer with `status` (the request's `id` when known).
fn rpc_error(status: StatusCode, id: Value, code: i64, message: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }))
}

/// `/mcp` reached through another host name than the issuer's (S104):
/// `localhost` for an issuer on `127.0.0.1`, a bare IP address, an alias.
/// The token and the protected-resource metadata name `{issuer}/mcp`, so
/// the client would fail later on RFC 9728's resource check without
/// saying why; this says where the server is. 400 with a JSON-RPC error
/// naming the URL, before anything else (no 401 sending the client to
/// authorize for a resource it does not use).
fn foreign_host(req: &ServiceRequest, issuer: &str) -> Option<HttpResponse> {
    let host = req.headers().get(header::HOST)?.to_str().unwrap_or("");
    let known = req.app_data::<web::Data<Hosts>>();
    let allowed = match known {
        Some(hosts) => std::borrow::Cow::Borrowed(&hosts.0),
        None => std::borrow::Cow::Owned(allowed_hosts(issuer)),
    };
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return None;
    }
    let url = resource::mcp(issuer);
    let shown: String = host
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect();
    Some(rpc_error(
        StatusCode::BAD_REQUEST,
        Value::Null,
        -32600,
        format!(
            "This MCP server is at {url}; connect to that URL. The request came through the host name '{shown}', and tokens for this server are issued for {url} only."
        ),
    ))
}

/// The body of a POST with a JSON body, read (up to `MAX_BODY`, the
/// transport's own bound) and handed on unchanged, and the tool call it
/// makes if it is one; 413 with a JSON-RPC error past the bound.
async fn read_call(
    req: &mut ServiceRequest,
    json_sent: bool,
) -> Result<Result<Option<ToolCall>, HttpResponse>, actix_web::Error> {
    if !json_sent || req.method() != Method::POST {
        return Ok(Ok(None));
    }
    let payload = req.extract::<web::Payload>().await?;
    let body = match gather(actix_web::body::BodyStream::new(payload), MAX_BODY).await {
        Ok(body) => body,
        Err(Unread::Failed(e)) => return Err(e.into()),
        Err(Unread::TooLarge) => {
            return Ok(Err(rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Value::Null,
                -32600,
                format!(
                    "The request body is too large: at most {} KiB.",
                    MAX_BODY / 1024
                ),
            )))
        }
    };
    req.set_payload(body.clone().into());
    Ok(Ok(tool_call(&body)))
}

/// Only what the step-up check needs: the method, the tool's name and
/// arguments, the id; whatever else the message holds is left unparsed
/// (the transport reads it).
fn tool_call(body: &[u8]) -> Option<ToolCall> {
    #[derive(serde::Deserialize)]
    struct Msg<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
        #[serde(default)]
        id: Value,
        params: Option<Params>,
    }
    #[derive(serde::Deserialize)]
    struct Params {
        name: Option<String>,
        #[serde(default)]
        arguments: Value,
    }
    let msg: Msg<'_> = serde_json::from_slice(body).ok()?;
    if msg.method.as_deref() != Some("tools/call") {
        return None;
    }
    let params = msg.params?;
    Some(ToolCall {
        id: msg.id,
        tool: params.name?,
        args: params.arguments,
    })
}

/// The step-up check (S102): a `tools/call` the token's capabilities do
/// not allow gets 403 with `WWW-Authenticate: Bearer
/// error="insufficient_scope", scope=…, resource_metadata=…` on the HTTP
/// response itself, as MCP's step-up flow asks, so the client can ask the
/// person for more and retry.
fn step_up(issuer: &str, bot: &Bot, call: &ToolCall) -> Option<HttpResponse> {
    let lacking = super::tools::lacking(&call.tool, &call.args, &bot.scope);
    if lacking.is_empty() {
        return None;
    }
    let challenge = resource::insufficient_scope(&resource::mcp(issuer), &bot.scope, &lacking);
    let names: Vec<&str> = lacking.iter().map(|c| c.as_str()).collect();
    let message = format!(
        "{} needs the {} capability, which this connection was not granted. Authorize again with the scope WWW-Authenticate names: the person is asked to allow it, and the pages already shared stay.",
        call.tool,
        names.join(" and ")
    );
    let mut res = rpc_error(StatusCode::FORBIDDEN, call.id.clone(), -32001, message);
    if let Ok(v) = header::HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    Some(res)
}
