//! OAuth 2.0 under `/v1/oauth` and the discovery documents. `authorize`
//! validates authorization requests (the consent page that answers them lives
//! in `consent`); `token` runs the grants; `introspect` introspects and
//! revokes; `endpoint` implements oxide-auth's primitives over the database.
//! oxide-auth types stay here. Access tokens are signed and verified with
//! the keys in `state::jwt`, which every layer above `state` may hold.

pub mod authorize;
pub mod cimd;
pub mod client;
pub mod client_auth;
pub mod endpoint;
pub mod guard;
pub mod introspect;
pub mod register;
pub mod token;

// The token keys are process state (`state::jwt`, `state::keys`); named here
// too, where the protocol's readers look for them.
pub use crate::state::{jwt, keys};

use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;
use serde_json::json;

use crate::db;
use crate::db::models::{AuthMethod, ClientType};
use crate::domain::consent::PromptValue;
use crate::domain::resource;
use crate::error::{AppError, AppResult, Capability, Refusal};
use crate::http::errors::OAuthError;
use crate::state::AppState;
use client_auth::{counting_guesses, AuthenticatedClient, ClientCall};

/// Other methods on the OAuth endpoints: a 405 in the OAuth error shape (S24).
pub async fn method_not_allowed() -> Result<HttpResponse, OAuthError> {
    Err(OAuthError::method_not_allowed())
}

fn no_store(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

pub async fn post_token(
    state: web::Data<AppState>,
    call: ClientCall,
) -> Result<HttpResponse, OAuthError> {
    let st = state.clone();
    let minted = call
        .run_batched(&state, move |c, client| {
            let i = &client.integration;
            counting_guesses(
                c,
                &st.config.security,
                i,
                &client.ip,
                |c| {
                    db::write_tx_refusing_or_held(c, |c| {
                        token::decide(c, &st.config, &st.keys, i, &client.params)
                    })
                },
                |out| matches!(out, Err(AppError::Refused(Refusal::Grant(_)))),
            )
        })
        .await?;
    Ok(no_store(token::sign(&state, minted).await?))
}

/// The `token` parameter of introspection and revocation.
fn token_param(client: &AuthenticatedClient) -> AppResult<String> {
    client
        .params
        .get("token")
        .map(String::from)
        .ok_or_else(|| AppError::invalid("token is missing"))
}

/// Introspection needs a client that can prove who it is (S40).
pub async fn post_introspect(
    state: web::Data<AppState>,
    call: ClientCall,
) -> Result<HttpResponse, OAuthError> {
    let st = state.clone();
    let out = call
        .run(&state, move |c, client| {
            if client.integration.client_type != ClientType::Confidential {
                let basic = client.basic;
                return Err(Refusal::Client { basic }.into());
            }
            let token = token_param(client)?;
            let i = &client.integration;
            counting_guesses(
                c,
                &st.config.security,
                i,
                &client.ip,
                |c| introspect::introspect(c, &st.keys, i, &token),
                |out| matches!(out, Ok((_, false))),
            )
        })
        .await?
        .0;
    Ok(no_store(out))
}

pub async fn post_revoke(
    state: web::Data<AppState>,
    call: ClientCall,
) -> Result<HttpResponse, OAuthError> {
    let st = state.clone();
    call.run(&state, move |c, client| {
        let token = token_param(client)?;
        let i = &client.integration;
        counting_guesses(
            c,
            &st.config.security,
            i,
            &client.ip,
            |c| introspect::revoke(c, &st.keys, i, &token),
            |known| matches!(known, Ok(false)),
        )
    })
    .await?;
    Ok(no_store(json!({})))
}

/// RFC 8414 metadata: only what is enforced (S1, S2).
pub async fn get_metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(metadata(&state.config))
}

/// RFC 8414 metadata: only what is enforced (S1, S2).
fn metadata(config: &crate::config::Config) -> serde_json::Value {
    let i = &config.server.issuer;
    // offline_access is accepted in `scope` (refresh tokens are always issued).
    let scopes: Vec<&str> = Capability::ALL
        .iter()
        .map(|c| c.as_str())
        .chain([endpoint::OFFLINE_ACCESS])
        .collect();
    // Introspection is for resource servers, which hold a secret; a public
    // client may still present itself (`none`) at the token and revocation
    // endpoints.
    let with_secret = [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost];
    let any_client = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];
    let mut body = json!({
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
        "token_endpoint_auth_methods_supported": any_client,
        "introspection_endpoint_auth_methods_supported": with_secret,
        "revocation_endpoint_auth_methods_supported": any_client,
        "scopes_supported": scopes,
        "prompt_values_supported": PromptValue::ALL.map(PromptValue::as_str),
        "authorization_response_iss_parameter_supported": true,
    });
    if let Some(o) = body.as_object_mut() {
        if config.registration.cimd {
            o.insert("client_id_metadata_document_supported".into(), json!(true));
        }
        if config.registration.dynamic {
            o.insert(
                "registration_endpoint".into(),
                json!(format!("{i}/v1/oauth/register")),
            );
        }
    }
    body
}

/// RFC 9728 protected-resource metadata for `resource`: which
/// authorization server issues tokens for it, how they are presented, and
/// the scopes it uses. MCP clients ask for every listed scope at once
/// (MCP's scope selection: the metadata's `scopes_supported`), so the list
/// holds only scopes that can be asked together: `read_user_without_email`
/// is the narrower alternative to `read_user_with_email`, still accepted
/// when asked for, never both.
fn protected_resource(
    issuer: &str,
    resource: String,
    name: &str,
    scopes: &[Capability],
) -> HttpResponse {
    let scopes: Vec<&str> = scopes.iter().map(|c| c.as_str()).collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({
            "resource": resource,
            "resource_name": name,
            "authorization_servers": [issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": scopes,
        }))
}

/// What the MCP tools use: reading and writing content.
const MCP_SCOPES: &[Capability] = &[
    Capability::ReadContent,
    Capability::InsertContent,
    Capability::UpdateContent,
];

pub async fn get_protected_resource_v1(state: web::Data<AppState>) -> HttpResponse {
    let i = &state.config.server.issuer;
    protected_resource(
        i,
        resource::api(i),
        "pagegrant API (Notion-compatible)",
        crate::db::models::ASKABLE_CAPABILITIES,
    )
}

/// The MCP server's metadata (what an MCP client reads after `/mcp`'s 401).
pub async fn get_protected_resource_mcp(state: web::Data<AppState>) -> HttpResponse {
    let i = &state.config.server.issuer;
    protected_resource(i, resource::mcp(i), "pagegrant MCP server", MCP_SCOPES)
}

/// The JWKS, read from the database each time, so it lists a key another
/// instance (or `pagegrant keys rotate`) added; the re-read also makes this
/// instance sign with the newest key from then on.
pub async fn get_jwks(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let st = state.clone();
    db::run(&state.pool, move |c| st.keys.reload(c)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks()))
}
