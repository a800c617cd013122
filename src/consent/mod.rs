//! The consent page behind `/v1/oauth/authorize`. GET validates the request
//! (oauth::authorize), asks for a login, and shows the integration, the
//! workspace switcher, **Select pages** and **Allow access** / **Cancel**;
//! each view records a pending request. POST answers that one request, once.

pub mod service;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::db;
use crate::oauth::authorize::{self, AuthorizeError};
use crate::web::csrf;
use crate::web::errors::HtmlError;
use crate::web::session::{CurrentUser, MaybeUser};
use crate::AppState;
use service::{ConsentData, Decision};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/oauth/authorize", web::get().to(view_authorize_get))
        .route("/v1/oauth/authorize", web::post().to(view_authorize_post));
}

#[derive(Template)]
#[template(path = "consent/authorize.html")]
pub struct ConsentView {
    pub d: ConsentData,
}

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn view_authorize_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, HtmlError> {
    let raw = req.query_string().to_string();
    let valid = db::run(&state.pool, move |c| authorize::validate(c, &raw)).await?;
    let valid = match valid {
        Ok(v) => v,
        Err(AuthorizeError::Page(m)) => return Err(HtmlError::BadRequest(m)),
        Err(AuthorizeError::Redirect(r)) => {
            return Ok(see_other(r.location(&state.config.server.issuer)))
        }
    };
    let Some(user) = user.0 else {
        // Come back to this very request after logging in.
        let back = match req.uri().query() {
            Some(q) => format!("{}?{q}", req.path()),
            None => req.path().to_string(),
        };
        return Err(HtmlError::LoginRequired(Some(back)));
    };
    let cfg = state.config.clone();
    let data = db::run(&state.pool, move |c| {
        service::prepare(c, &cfg, &user.user, &user.session, valid)
    })
    .await?;
    let body = ConsentView { d: data }.render()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn view_authorize_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Result<HttpResponse, HtmlError> {
    csrf::check_origin(&req)?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(HtmlError::Forbidden(
            "This form has expired or did not come from this site. Go back, reload the page and try again.".into(),
        ));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let first = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let decision = Decision {
        request_id: first("request_id").unwrap_or_default(),
        token: first("csrf").unwrap_or_default(),
        allow: match first("decision").as_deref() {
            Some("allow") => true,
            Some("deny") => false,
            _ => {
                return Err(HtmlError::BadRequest(
                    "Choose Allow access or Cancel.".into(),
                ))
            }
        },
        pages: pairs
            .iter()
            .filter(|(k, _)| k == "page")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let cfg = state.config.clone();
    let location = db::run(&state.pool, move |c| {
        service::decide(c, &cfg, &user.user, &user.session, decision)
    })
    .await?;
    Ok(see_other(location))
}
