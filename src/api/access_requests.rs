//! `POST /v1/access_requests` and `GET /v1/access_requests/{id}` (issue 29
//! item 1): an API integration asks the person who connected it for more
//! pages, and polls the answer. The rules are
//! `domain::access_requests`'; only the connection that made a request
//! reads it, any other gets `object_not_found` (S98).

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::bearer::Bearer;
use super::pages::{body, iso, validation};
use crate::db::models::{AccessRequest, AccessRequestId, RequestVia};
use crate::domain::access_requests::{self, Ask};
use crate::http::errors::ApiError;
use crate::state::AppState;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    search: String,
}

/// A request in the Notion-style shape of the other `/v1` objects.
pub fn request_object(issuer: &str, r: &AccessRequest) -> Value {
    json!({
        "object": "access_request",
        "id": r.id,
        "url": access_requests::url(issuer, &r.id),
        "state": r.state,
        "reason": r.reason,
        "search": r.search,
        "page_ids": access_requests::shared_pages(r),
        "created_time": iso(r.created_at),
        "expires_time": iso(r.expires_at),
        "answered_time": r.answered_at.map(iso),
    })
}

fn id_of(raw: &str) -> Result<AccessRequestId, ApiError> {
    AccessRequestId::parse(raw)
        .ok_or_else(|| validation("path failed validation: the id should be a valid uuid."))
}

pub async fn post_access_request(
    state: web::Data<AppState>,
    bearer: Bearer,
    raw: Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: Result<AskBody, ApiError> = body(&raw);
    let (cfg, issuer) = (
        state.config.agents.clone(),
        state.config.server.issuer.clone(),
    );
    let r = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let b = b?;
            let ask = Ask {
                via: RequestVia::Api,
                reason: &b.reason,
                search: &b.search,
            };
            Ok(access_requests::ask(c, &cfg, &bot.connection, &ask)?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("x-notion-request-id", crate::crypto::new_uuid()))
        .json(request_object(&issuer, &r)))
}

pub async fn get_access_request(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path);
    let issuer = state.config.server.issuer.clone();
    let r = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            Ok(access_requests::poll(c, &bot.connection.id, &id?)?)
        })
        .await?;
    Ok(super::pages::ok(request_object(&issuer, &r)))
}
