//! `/`: a logged-in user lands in their first workspace, or on a page saying
//! they have none yet.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db;
use crate::domain::workspaces;
use crate::http::errors::HtmlError;
use crate::http::extract::CurrentUser;
use crate::http::html;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "no_workspace.html")]
pub struct NoWorkspaceView {
    pub user_name: String,
    pub csrf: String,
}

/// `/`: a logged-in user lands in their first workspace.
pub async fn view_home_get(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, HtmlError> {
    let uid = user.user.id.clone();
    let list = db::run(&state.pool, move |c| workspaces::of_user(c, &uid)).await?;
    match list.first() {
        Some((ws, _)) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/w/{}", ws.id)))
            .finish()),
        None => {
            let view = NoWorkspaceView {
                user_name: user.user.name.clone(),
                csrf: user.csrf().to_string(),
            };
            Ok(html(view.render()?))
        }
    }
}
