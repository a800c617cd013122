//! OAuth 2.0 under `/v1/oauth` and the discovery documents. `authorize`
//! validates authorization requests (the consent page that answers them lives
//! in `consent`); `token` runs the grants; `introspect` introspects and
//! revokes; `jwt` signs and verifies access tokens; `endpoint` implements
//! oxide-auth's primitives over the database. oxide-auth types stay here.

pub mod authorize;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod guard;
pub mod introspect;
pub mod jwt;
pub mod token;

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use crate::db;
use crate::db::models::{ClientType, CAPABILITIES};
use crate::AppState;
use error::OAuthError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Other methods get a 405 in the OAuth error shape (S24).
    cfg.service(
        web::resource("/v1/oauth/token")
            .route(web::post().to(post_token))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/oauth/introspect")
            .route(web::post().to(post_introspect))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/oauth/revoke")
            .route(web::post().to(post_revoke))
            .default_service(web::to(method_not_allowed)),
    )
    .route(
        "/.well-known/oauth-authorization-server",
        web::get().to(get_metadata),
    )
    .route("/.well-known/jwks.json", web::get().to(get_jwks));
}

async fn method_not_allowed() -> Result<HttpResponse, OAuthError> {
    let mut e = OAuthError::invalid_request("use POST");
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    Err(e)
}

/// The client's address, for the throttle (the TCP peer; forwarded headers
/// are not trusted).
pub(crate) fn peer_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn no_store(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

async fn post_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, OAuthError> {
    let params = client::parse(&req, &body)?;
    let who = client::presented(&req, &params)?;
    let ip = peer_ip(&req);
    let st = state.clone();
    let out = db::run(&state.pool, move |c| {
        let sec = &st.config.security;
        let integration = match guard::authenticate(c, sec, &who, &ip)? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(e) = guard::check_guesses(c, sec, &integration)? {
            return Ok(Err(e));
        }
        let out = token::grant(c, &st.config, &st.keys, &integration, &params)?;
        if matches!(&out, Err(e) if e.code == error::OAuthCode::InvalidGrant) {
            guard::record_guess(c, sec, &integration)?;
        }
        Ok(out)
    })
    .await??;
    Ok(no_store(out))
}

/// Introspection needs a client that can prove who it is (S40).
async fn post_introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, OAuthError> {
    let params = client::parse(&req, &body)?;
    let who = client::presented(&req, &params)?;
    let token = params.get("token").map(String::from);
    let ip = peer_ip(&req);
    let st = state.clone();
    let out = db::run(&state.pool, move |c| {
        let sec = &st.config.security;
        let integration = match guard::authenticate(c, sec, &who, &ip)? {
            Ok(i) if i.client_type == ClientType::Confidential.as_str() => i,
            Ok(_) => return Ok(Err(OAuthError::invalid_client(who.basic))),
            Err(e) => return Ok(Err(e)),
        };
        let Some(token) = token else {
            return Ok(Err(OAuthError::invalid_request("token is missing")));
        };
        if let Some(e) = guard::check_guesses(c, sec, &integration)? {
            return Ok(Err(e));
        }
        let (body, known) = introspect::introspect(c, &st.keys, &integration, &token)?;
        if !known {
            guard::record_guess(c, sec, &integration)?;
        }
        Ok(Ok(body))
    })
    .await??;
    Ok(no_store(out))
}

async fn post_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, OAuthError> {
    let params = client::parse(&req, &body)?;
    let who = client::presented(&req, &params)?;
    let token = params.get("token").map(String::from);
    let ip = peer_ip(&req);
    let st = state.clone();
    db::run(&state.pool, move |c| {
        let sec = &st.config.security;
        let integration = match guard::authenticate(c, sec, &who, &ip)? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        let Some(token) = token else {
            return Ok(Err(OAuthError::invalid_request("token is missing")));
        };
        if let Some(e) = guard::check_guesses(c, sec, &integration)? {
            return Ok(Err(e));
        }
        if !introspect::revoke(c, &st.keys, &integration, &token)? {
            guard::record_guess(c, sec, &integration)?;
        }
        Ok(Ok(()))
    })
    .await??;
    Ok(no_store(json!({})))
}

/// RFC 8414 metadata: only what is enforced (S1, S2).
async fn get_metadata(state: web::Data<AppState>) -> HttpResponse {
    let i = &state.config.server.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/v1/oauth/authorize"),
        "token_endpoint": format!("{i}/v1/oauth/token"),
        "introspection_endpoint": format!("{i}/v1/oauth/introspect"),
        "revocation_endpoint": format!("{i}/v1/oauth/revoke"),
        "jwks_uri": format!("{i}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": CAPABILITIES,
        "authorization_response_iss_parameter_supported": true,
    }))
}

/// The JWKS, read from the database each time, so it lists a key another
/// instance (or `pagegrant keys rotate`) added; the re-read also makes this
/// instance sign with the newest key from then on.
async fn get_jwks(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let st = state.clone();
    db::run(&state.pool, move |c| st.keys.reload(c)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks()))
}
