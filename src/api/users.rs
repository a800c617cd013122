//! `GET /v1/users/me`: the bot user of the calling connection (DESIGN §4).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::bearer::{Bearer, Bot};
use crate::db::queries::workspaces;
use crate::db::Conn;
use crate::error::{AppError, AppResult};
use crate::http::errors::ApiError;
use crate::oauth::token::owner_user;

/// The bot user as JSON (also shown by the demo partner).
pub fn bot_user(conn: &mut Conn, bot: &Bot) -> AppResult<serde_json::Value> {
    let ws = workspaces::by_id(conn, &bot.connection.workspace_id)?
        .ok_or_else(|| AppError::internal("connection without workspace"))?;
    let owner = if bot.internal {
        json!({ "type": "workspace", "workspace": true })
    } else {
        json!({ "type": "user", "user": owner_user(conn, &bot.connection, &bot.scope)? })
    };
    Ok(json!({
        "object": "user",
        "id": bot.connection.bot_id,
        "name": bot.integration.name,
        "avatar_url": bot.integration.icon,
        "type": "bot",
        "bot": {
            "owner": owner,
            "workspace_id": ws.id,
            "workspace_name": ws.name,
        },
    }))
}

pub async fn get_users_me(bearer: Bearer) -> Result<HttpResponse, ApiError> {
    let body = bearer.run(bot_user).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("x-notion-request-id", crate::crypto::new_uuid()))
        .json(body))
}

/// `GET /v1/users/{id}`: the connection's own bot, or the user who installed
/// it; anyone else is `object_not_found`.
pub async fn get_user(bearer: Bearer, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    // A malformed id is judged after the token, as before.
    let wanted = user_id(&path);
    let body = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let wanted = wanted?;
            if wanted == bot.connection.bot_id.as_str() {
                return Ok(Some(bot_user(c, bot)?));
            }
            if !bot.internal && wanted == bot.connection.installed_by.as_str() {
                return Ok(Some(owner_user(c, &bot.connection, &bot.scope)?));
            }
            Ok(None)
        })
        .await?;
    let body = body.ok_or_else(|| {
        ApiError::new(
            crate::http::errors::ApiCode::ObjectNotFound,
            "Could not find user with that ID.",
        )
    })?;
    Ok(HttpResponse::Ok()
        .insert_header(("x-notion-request-id", crate::crypto::new_uuid()))
        .json(body))
}

/// A user id from the path, hyphenated (Notion accepts it with or without).
fn user_id(raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::try_parse(raw.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            ApiError::new(
                crate::http::errors::ApiCode::ValidationError,
                "path failed validation: the id should be a valid uuid.",
            )
        })
}
