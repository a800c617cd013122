//! Forms whose CSRF check is part of reading them: a handler that takes a
//! `CsrfForm<T>` cannot run on a forged post, and no handler reads a form
//! any other way. Three kinds, one per way a form is bound:
//! - `CsrfForm<T>`: logged-in forms, carrying the session's token;
//! - `LoginForm<T>`: the login form (no session yet), with a double-submit cookie;
//! - `ConsentForm<T>`: the consent form, whose token is bound to its pending
//!   request in the database (checked by `domain::consent::decide`), so only
//!   the origin is checked here.
//!
//! Bodies are read with `serde_html_form`, so repeated fields (checkboxes)
//! land in a `Vec`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::http::csrf;
use crate::http::errors::{HtmlError, JsonError};
use crate::http::extract::CurrentUser;
use crate::state::AppState;

/// A form whose only field is its CSRF token (a button that acts).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// Forms are small; anything larger is not one of ours.
const MAX_FORM: usize = 64 * 1024;

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The body's `csrf` field, if the body is a form of ours.
fn token_of(req: &HttpRequest, body: &[u8]) -> Option<String> {
    if !is_form(req) || body.len() > MAX_FORM {
        return None;
    }
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, HtmlError> {
    serde_html_form::from_bytes(body)
        .map_err(|e| HtmlError::BadRequest(format!("The form could not be read: {e}")))
}

async fn body_of(req: &HttpRequest, payload: &mut Payload) -> Bytes {
    // An unreadable body is treated like an empty one: it carries no token.
    Bytes::from_request(req, payload).await.unwrap_or_default()
}

type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, HtmlError>>>>;

/// A logged-in form: same origin, carrying the session's token, then
/// decoded as `T`.
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let user = CurrentUser::from_request(&req, &mut Payload::None).await?;
            let body = body_of(&req, &mut payload).await;
            csrf::verify(&req, &user.session, token_of(&req, &body).as_deref())?;
            Ok(CsrfForm(decode(&body)?))
        })
    }
}

/// The login form: same origin and its double-submit cookie.
pub struct LoginForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for LoginForm<T> {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let secure = req
                .app_data::<web::Data<AppState>>()
                .is_some_and(|s| s.config.issuer_is_https());
            let body = body_of(&req, &mut payload).await;
            csrf::verify_login(&req, secure, token_of(&req, &body).as_deref())?;
            Ok(LoginForm(decode(&body)?))
        })
    }
}

/// The consent form: a form from this site; its token is checked against
/// the pending request it answers.
pub struct ConsentForm<T>(pub T);

impl<T> ConsentForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ConsentForm<T> {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            csrf::check_origin(&req)?;
            let body = body_of(&req, &mut payload).await;
            if !is_form(&req) || body.len() > MAX_FORM {
                return Err(csrf::forbidden());
            }
            Ok(ConsentForm(decode(&body)?))
        })
    }
}

/// The header a page's script sends its CSRF token in with a JSON body.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// JSON bodies are small; anything larger is not one of ours.
const MAX_JSON: usize = 64 * 1024;

fn json_of<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, JsonError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || body.len() > MAX_JSON {
        return Err(HtmlError::BadRequest("Send the request as JSON.".into()).into());
    }
    serde_json::from_slice(body)
        .map_err(|e| HtmlError::BadRequest(format!("The request could not be read: {e}")).into())
}

fn header_token(req: &HttpRequest) -> Option<&str> {
    req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

type BoxedJson<T> = Pin<Box<dyn Future<Output = Result<T, JsonError>>>>;

/// A logged-in page's script posting JSON: same origin, the session's
/// token in `X-CSRF-Token`, then the body decoded as `T`. Fails as JSON.
pub struct CsrfJson<T> {
    pub user: CurrentUser,
    pub body: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfJson<T> {
    type Error = JsonError;
    type Future = BoxedJson<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let user = CurrentUser::from_request(&req, &mut Payload::None).await?;
            csrf::verify(&req, &user.session, header_token(&req))?;
            let body = body_of(&req, &mut payload).await;
            Ok(CsrfJson {
                body: json_of(&req, &body)?,
                user,
            })
        })
    }
}

/// The login page's script posting JSON: same origin, the login form's
/// token in `X-CSRF-Token` matching its double-submit cookie. `bound_to`
/// is the cookie's hash, naming this login page's ceremonies.
pub struct LoginJson<T> {
    pub bound_to: String,
    pub body: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for LoginJson<T> {
    type Error = JsonError;
    type Future = BoxedJson<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let secure = req
                .app_data::<web::Data<AppState>>()
                .is_some_and(|s| s.config.issuer_is_https());
            let token = header_token(&req).map(str::to_string);
            csrf::verify_login(&req, secure, token.as_deref())?;
            let body = body_of(&req, &mut payload).await;
            Ok(LoginJson {
                bound_to: crate::crypto::sha256_hex(token.as_deref().unwrap_or_default()),
                body: json_of(&req, &body)?,
            })
        })
    }
}
