//! RFC 7591 dynamic registration at `POST /v1/oauth/register`, and RFC 7592
//! management of a registration at its `registration_client_uri` with the
//! registration access token. The rules are `domain::registration`'s.

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use crate::db;
use crate::db::models::Integration;
use crate::db::queries::integrations;
use crate::domain::registration::{self, ClientMetadata};
use crate::error::Refusal;
use crate::http::errors::{OAuthCode, OAuthError};
use crate::state::AppState;

/// The endpoint answers only when `registration.dynamic` is on.
fn enabled(state: &AppState) -> Result<(), OAuthError> {
    if state.config.registration.dynamic {
        Ok(())
    } else {
        let mut e = OAuthError::invalid_request("dynamic client registration is turned off");
        e.status = actix_web::http::StatusCode::NOT_FOUND;
        Err(e)
    }
}

/// The body as client metadata: a JSON object; unknown fields are ignored.
fn metadata(body: &Bytes) -> Result<ClientMetadata, OAuthError> {
    serde_json::from_slice(body).map_err(|_| {
        OAuthError::new(
            OAuthCode::InvalidClientMetadata,
            "the body must be a JSON object of client metadata (RFC 7591)",
        )
    })
}

fn no_store(mut b: actix_web::HttpResponseBuilder, body: serde_json::Value) -> HttpResponse {
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

pub async fn post_register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, OAuthError> {
    enabled(&state)?;
    let ip = crate::http::peer_ip(&req);
    // A body that is no metadata is a refused registration like any other:
    // counted against the refusal budget, not the registration one (S82).
    let m = metadata(&body).map_err(|_| {
        Refusal::Metadata("the body must be a JSON object of client metadata (RFC 7591)".into())
    });
    let st = state.clone();
    let out = db::run(&state.pool, move |c| {
        registration::register(c, &st.config, &st.secret_box, &ip, m)
    })
    .await?;
    let body = registration::describe(
        &state.config,
        &out.integration,
        &out.redirect_uris,
        out.client_secret.as_deref(),
        &out.registration_token,
    );
    Ok(no_store(HttpResponse::Created(), body))
}

/// The registration access token from `Authorization: Bearer`.
fn bearer(req: &HttpRequest) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

fn invalid_token() -> OAuthError {
    OAuthError::new(
        OAuthCode::InvalidToken,
        "the registration access token is missing or not this client's",
    )
}

/// The client named by the path, if the request carries its registration
/// access token; otherwise 401 alike for every failure (S59).
async fn managed(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    client_id: String,
) -> Result<(Integration, String), OAuthError> {
    enabled(state)?;
    let token = bearer(req).ok_or_else(invalid_token)?;
    let t = token.clone();
    let found = db::run(&state.pool, move |c| {
        registration::authenticate(c, &client_id, &t)
    })
    .await?;
    found.map(|i| (i, token)).ok_or_else(invalid_token)
}

async fn describe(
    state: &web::Data<AppState>,
    i: Integration,
    token: &str,
) -> Result<HttpResponse, OAuthError> {
    let id = i.id.clone();
    let (i, uris) = db::run(&state.pool, move |c| {
        Ok((
            integrations::by_id(c, &id)?,
            integrations::redirect_uris(c, &id)?,
        ))
    })
    .await?;
    let i = i.ok_or_else(invalid_token)?;
    let body = registration::describe(&state.config, &i, &uris, None, token);
    Ok(no_store(HttpResponse::Ok(), body))
}

pub async fn get_registration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let (i, token) = managed(&state, &req, path.into_inner()).await?;
    describe(&state, i, &token).await
}

pub async fn put_registration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, OAuthError> {
    let (i, token) = managed(&state, &req, path.into_inner()).await?;
    let m = metadata(&body)?;
    let current = i.clone();
    let st = state.clone();
    db::run(&state.pool, move |c| {
        registration::update(c, &st.config, &current, &m)
    })
    .await?;
    describe(&state, i, &token).await
}

pub async fn delete_registration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let (i, _) = managed(&state, &req, path.into_inner()).await?;
    db::run(&state.pool, move |c| registration::delete(c, &i)).await?;
    Ok(HttpResponse::NoContent().finish())
}
