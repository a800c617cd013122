//! `/demo/partner`: a built-in partner site for the five-minute tour. It
//! starts the flow with PKCE (a public client), receives the callback, checks
//! `state` and `iss`, exchanges the code and calls `/v1/users/me`, then shows
//! both answers. It calls the same service functions the endpoints use, in
//! process, so it works whatever `server.issuer` resolves to from the server.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::api;
use crate::api::bearer;
use crate::api::users::bot_user;
use crate::crypto;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::http::errors::HtmlError;
use crate::oauth::authorize::redirect_with;
use crate::oauth::client::{Params, Presented};
use crate::oauth::client_auth::{authenticate_client, refusal_text};
use crate::oauth::token;
use crate::state::AppState;
use serde_json::Value;

use crate::domain::demo::{
    partner_callback, partner_redirect_uri, PartnerCallback, PARTNER_CLIENT_ID,
};

const COOKIE: &str = "pg_demo_partner";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/demo/partner", web::get().to(view_partner_get))
        .route("/demo/partner/start", web::get().to(view_partner_start_get))
        .route(
            "/demo/partner/callback",
            web::get().to(view_partner_callback_get),
        );
}

#[derive(Template)]
#[template(path = "demo/partner.html")]
pub struct PartnerView {
    pub issuer: String,
    pub client_id: &'static str,
    pub error: Option<String>,
    pub token_response: Option<String>,
    pub bot_user: Option<String>,
    /// Titles of the pages the new token can see (`POST /v1/search`).
    pub pages: Vec<String>,
}

/// The partner exists only while the demo world does.
async fn enabled(state: &web::Data<AppState>) -> Result<(), HtmlError> {
    let found = db::run(&state.pool, crate::domain::demo::partner_installed).await?;
    if found {
        Ok(())
    } else {
        Err(HtmlError::NotFound)
    }
}

fn render(view: PartnerView) -> Result<HttpResponse, HtmlError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(view.render()?))
}

fn view(state: &AppState) -> PartnerView {
    PartnerView {
        issuer: state.config.server.issuer.clone(),
        client_id: PARTNER_CLIENT_ID,
        error: None,
        token_response: None,
        bot_user: None,
        pages: Vec::new(),
    }
}

pub async fn view_partner_get(state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    enabled(&state).await?;
    render(view(&state))
}

pub async fn view_partner_start_get(state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    enabled(&state).await?;
    let verifier = crypto::random_token(32);
    let flow_state = crypto::random_token(16);
    let location = authorize_url(&state.config.server.issuer, &flow_state, &verifier);
    // The partner keeps its state and verifier in its own cookie, as a real one would.
    let cookie = Cookie::build(COOKIE, format!("{flow_state}.{verifier}"))
        .path("/demo/partner")
        .http_only(true)
        .secure(state.config.issuer_is_https())
        .same_site(SameSite::Lax)
        .finish();
    let mut resp = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish();
    resp.add_cookie(&cookie)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}

/// The authorization request the partner sends the browser to, with PKCE
/// (S256 of `verifier`).
fn authorize_url(issuer: &str, flow_state: &str, verifier: &str) -> String {
    let challenge = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()))
    };
    let redirect_uri = partner_redirect_uri(issuer);
    redirect_with(
        &format!("{issuer}/v1/oauth/authorize"),
        &[
            ("client_id", PARTNER_CLIENT_ID),
            ("response_type", "code"),
            ("owner", "user"),
            ("redirect_uri", &redirect_uri),
            ("state", flow_state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// The token response, the bot user and the page titles it can see; or why not.
type Exchanged = Result<(Value, Value, Vec<String>), String>;

/// What the partner does with its code, in process but through the same
/// doors as any client: client authentication behind the throttle, the
/// token endpoint's grant, then the API's view of the new token.
fn exchange(
    c: &mut crate::db::Conn,
    st: &AppState,
    ip: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> AppResult<Exchanged> {
    let who = Presented {
        client_id: PARTNER_CLIENT_ID.into(),
        secret: None,
        basic: false,
    };
    let integration = match authenticate_client(c, &st.config.security, &who, ip) {
        Ok(i) => i,
        Err(e) => return refusal_text(e).map(Err),
    };
    let params = Params::from_pairs(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let body = match token::grant(c, &st.config, &st.keys, &integration, &params) {
        Ok(b) => b,
        Err(e) => return refusal_text(e).map(Err),
    };
    let access = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (me, pages) = match bearer::resolve(c, &st.keys, &access)? {
        Some(bot) => (bot_user(c, &bot)?, api::pages::shared_titles(c, &bot)?),
        None => (
            serde_json::json!({"error": "the new access token was refused"}),
            Vec::new(),
        ),
    };
    Ok(Ok((body, me, pages)))
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

pub async fn view_partner_callback_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<Callback>,
) -> Result<HttpResponse, HtmlError> {
    enabled(&state).await?;
    let mut v = view(&state);
    let (saved_state, verifier) = saved(&req);
    let issuer = &state.config.server.issuer;
    let code = match partner_callback(q.into_inner().into(), &saved_state, issuer) {
        Ok(code) => code,
        Err(why) => {
            v.error = Some(why);
            return render(v);
        }
    };
    let redirect_uri = partner_redirect_uri(issuer);
    let (st, ip) = (state.clone(), crate::http::peer_ip(&req));
    let outcome = db::run(&state.pool, move |c| {
        exchange(c, &st, &ip, &code, &redirect_uri, &verifier)
    })
    .await?;
    v.show(outcome);
    forget(render(v)?)
}

/// The `state` and PKCE verifier the partner saved when it started (empty
/// when it saved none).
fn saved(req: &HttpRequest) -> (String, String) {
    let saved = req
        .cookie(COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let (state, verifier) = saved.split_once('.').unwrap_or(("", ""));
    (state.to_string(), verifier.to_string())
}

/// The response with the partner's cookie removed: its flow is over.
fn forget(mut resp: HttpResponse) -> Result<HttpResponse, HtmlError> {
    let mut gone = Cookie::build(COOKIE, "").path("/demo/partner").finish();
    gone.make_removal();
    resp.add_cookie(&gone)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}

impl From<Callback> for PartnerCallback {
    fn from(q: Callback) -> Self {
        PartnerCallback {
            code: q.code,
            state: q.state,
            iss: q.iss,
            error: q.error,
        }
    }
}

impl PartnerView {
    /// The exchange's answers, or why it failed.
    fn show(&mut self, outcome: Exchanged) {
        match outcome {
            Ok((body, me, pages)) => {
                self.token_response = serde_json::to_string_pretty(&body).ok();
                self.bot_user = serde_json::to_string_pretty(&me).ok();
                self.pages = pages;
            }
            Err(e) => self.error = Some(format!("The code exchange failed: {e}")),
        }
    }
}
