//! The three response errors, each with one `ResponseError` impl and each
//! built from `AppError` in one place: `HtmlError` (a page, for people),
//! `ApiError` (Notion's JSON error, for `/v1` API clients) and `OAuthError`
//! (RFC 6749 JSON, for the token, introspection and revocation endpoints).
//! `Shape::of` is the one place that decides, from a path alone, which of
//! them answers a request no handler has taken yet (unknown routes, bad
//! paths and queries, NUL characters).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::error::{AppError, Refusal};
use crate::state::limit::RateLimited;

/// Which error shape a path speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Html,
    Api,
    OAuth,
}

impl Shape {
    pub fn of(path: &str) -> Shape {
        match path {
            "/v1/oauth/token"
            | "/v1/oauth/introspect"
            | "/v1/oauth/revoke"
            | "/v1/oauth/register" => Shape::OAuth,
            p if p.starts_with("/v1/oauth/register/") => Shape::OAuth,
            // The consent page lives under /v1 for Notion's URL, but people read it.
            "/v1/oauth/authorize" => Shape::Html,
            p if p.starts_with("/v1/") => Shape::Api,
            _ => Shape::Html,
        }
    }

    /// A client mistake in this shape: the words a person reads, and those
    /// an API client reads.
    pub fn bad_request(self, for_people: String, for_clients: String) -> actix_web::Error {
        match self {
            Shape::Html => HtmlError::BadRequest(for_people).into(),
            Shape::Api => ApiError::new(ApiCode::ValidationError, for_clients).into(),
            Shape::OAuth => OAuthError::invalid_request(&for_clients).into(),
        }
    }

    pub fn not_found(self) -> actix_web::Error {
        match self {
            Shape::Html => HtmlError::NotFound.into(),
            Shape::Api | Shape::OAuth => ApiError::not_found_route().into(),
        }
    }

    /// An error the framework raised with `status` (too large, wrong
    /// method, a body too slow, ...) in this shape, with our words. `None`
    /// for pages, whose framework errors are left as they are.
    pub fn framework_error(self, status: StatusCode) -> Option<actix_web::Error> {
        let words = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
            StatusCode::METHOD_NOT_ALLOWED => "this method is not supported here",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "this content type is not supported here",
            StatusCode::URI_TOO_LONG => "the request URL is too long",
            StatusCode::REQUEST_TIMEOUT => "the request took too long to arrive",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request headers are too large",
            s if s.is_server_error() => "the server could not complete the request",
            _ => "the request could not be read",
        };
        match self {
            Shape::Html => None,
            Shape::OAuth => {
                let mut e = if status.is_server_error() {
                    OAuthError::new(OAuthCode::ServerError, words)
                } else {
                    OAuthError::invalid_request(words)
                };
                e.status = status;
                Some(e.into())
            }
            Shape::Api => {
                let code = match status {
                    StatusCode::UNAUTHORIZED => ApiCode::Unauthorized,
                    StatusCode::FORBIDDEN => ApiCode::RestrictedResource,
                    StatusCode::NOT_FOUND => ApiCode::ObjectNotFound,
                    StatusCode::TOO_MANY_REQUESTS => ApiCode::RateLimited,
                    s if s.is_server_error() => ApiCode::InternalServerError,
                    s => ApiCode::InvalidRequest(s),
                };
                let mut sentence = words.to_string();
                if let Some(first) = sentence.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                sentence.push('.');
                Some(ApiError::new(code, sentence).into())
            }
        }
    }
}

fn is_json(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Longest URL (path and query) a JSON endpoint reads.
const MAX_URI: usize = 8 * 1024;

/// Middleware: on the JSON endpoints (OAuth and `/v1` API), every error
/// response that is not already JSON — those actix answers itself when a
/// body is too large, a method has no route, ... — is rewritten into the
/// path's JSON shape, so clients parse one format whatever failed. URLs
/// longer than `MAX_URI` are refused here in that shape too.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let shape = Shape::of(req.path());
    if shape == Shape::Html {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if req.uri().to_string().len() > MAX_URI {
        if let Some(e) = shape.framework_error(StatusCode::URI_TOO_LONG) {
            return Ok(req.into_response(e.error_response()));
        }
    }
    // (The request cannot be cloned before routing, so a failure the inner
    // services return as an error is answered as an error in the shape.)
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            let resp = e.error_response();
            if is_json(resp.headers()) {
                return Err(e);
            }
            return Err(shape.framework_error(resp.status()).unwrap_or(e));
        }
    };
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    if is_json(res.headers()) {
        return Ok(step_up(res));
    }
    // A connection actix meant to close (a body left unread) stays closing.
    let close = res.response().head().connection_type() == ConnectionType::Close;
    match shape.framework_error(status) {
        Some(e) => {
            let mut resp = e.error_response();
            if close {
                resp.head_mut().set_connection_type(ConnectionType::Close);
            }
            Ok(res.into_response(resp))
        }
        None => Ok(res),
    }
}

/// The scope an OAuth access token holds, noted on the request by the
/// `/v1` bearer check (`api::bearer`) for the step-up challenge. Internal
/// integration tokens note none: they cannot be re-authorized.
#[derive(Clone)]
pub struct HeldScope(pub String);

/// A `/v1` call refused for a capability its OAuth token lacks: 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope=…,
/// resource_metadata=…` (RFC 6750 §3.1; S102), Notion's JSON body unchanged.
fn step_up(mut res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let missing = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .and_then(|e| e.missing);
    let held = res.request().extensions().get::<HeldScope>().cloned();
    let issuer = res
        .request()
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|s| s.config.server.issuer.clone());
    let (Some(missing), Some(held), Some(issuer)) = (missing, held, issuer) else {
        return res;
    };
    let challenge = crate::domain::resource::insufficient_scope(
        &crate::domain::resource::api(&issuer),
        &held.0,
        &[missing],
    );
    if let Ok(v) = header::HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// The fallback for unknown routes.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    Shape::of(req.path()).not_found().error_response()
}

// ---- HtmlError: a page saying what is wrong, with the right status.

#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("{0}")]
    BadRequest(String),
    /// A request from a client that may not be redirected to automatically:
    /// the page links back to it (`href`, the error at its redirect URI).
    #[error("{message}")]
    BackToClient {
        message: String,
        href: String,
        name: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// A workspace requires two-step verification and this person has not
    /// turned it on: a 403 linking to where they can.
    #[error("two-step verification required")]
    TwoStepRequired,
    #[error("not found")]
    NotFound,
    #[error("too many attempts")]
    Throttled(i64),
    /// Not logged in: off to the login page, coming back to `next` afterwards.
    #[error("login required")]
    LoginRequired(Option<String>),
    /// Signed in, but the last proof of identity is too old for this action
    /// (`extract::Sudo`): off to **Confirm it's you**, then to `next`; a
    /// script asking for JSON gets a 401 naming that page.
    #[error("re-authentication required")]
    ReauthRequired { next: String, json: bool },
    #[error("internal error")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorView {
    pub status: u16,
    pub title: &'static str,
    pub message: String,
    pub reference: Option<String>,
    /// A plain link back to a client and its label.
    pub back: Option<(String, String)>,
}

impl From<AppError> for HtmlError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => HtmlError::NotFound,
            AppError::Invalid(m) => HtmlError::BadRequest(m),
            AppError::Conflict(m) => HtmlError::Conflict(m),
            AppError::Forbidden(m) if m == crate::domain::two_step::REQUIRED => {
                HtmlError::TwoStepRequired
            }
            AppError::Forbidden(m) => HtmlError::Forbidden(m),
            AppError::Throttled(s) => HtmlError::Throttled(s),
            // No page acts for a bot today; a refusal reads as its kind.
            AppError::Refused(Refusal::NotFound(_)) => HtmlError::NotFound,
            AppError::Refused(r @ Refusal::Missing(_)) => HtmlError::Forbidden(r.to_string()),
            AppError::Refused(r) => HtmlError::BadRequest(r.to_string()),
            other => {
                let reference = crate::crypto::new_uuid();
                tracing::error!(%reference, error = %other, "request failed");
                HtmlError::Internal(reference)
            }
        }
    }
}

impl HtmlError {
    /// For pages that show a refused form again: the status and the words
    /// of a client mistake, or the error itself for anything else.
    pub fn refusal(self) -> Result<(StatusCode, String), HtmlError> {
        match &self {
            HtmlError::BadRequest(m)
            | HtmlError::BackToClient { message: m, .. }
            | HtmlError::Conflict(m)
            | HtmlError::Forbidden(m) => Ok((self.status_code(), m.clone())),
            HtmlError::TwoStepRequired => Ok((
                self.status_code(),
                crate::domain::two_step::REQUIRED.to_string(),
            )),
            _ => Err(self),
        }
    }
}

impl From<askama::Error> for HtmlError {
    fn from(e: askama::Error) -> Self {
        HtmlError::from(AppError::internal(format!("template: {e}")))
    }
}

impl ResponseError for HtmlError {
    fn status_code(&self) -> StatusCode {
        match self {
            HtmlError::BadRequest(_) | HtmlError::BackToClient { .. } => StatusCode::BAD_REQUEST,
            HtmlError::Conflict(_) => StatusCode::CONFLICT,
            HtmlError::Forbidden(_) | HtmlError::TwoStepRequired => StatusCode::FORBIDDEN,
            HtmlError::NotFound => StatusCode::NOT_FOUND,
            HtmlError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            HtmlError::LoginRequired(_) => StatusCode::SEE_OTHER,
            HtmlError::ReauthRequired { json: false, .. } => StatusCode::SEE_OTHER,
            HtmlError::ReauthRequired { json: true, .. } => StatusCode::UNAUTHORIZED,
            HtmlError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let HtmlError::LoginRequired(next) = self {
            let location = match next {
                Some(n) => format!("/login?next={}", url_encode(n)),
                None => "/login".to_string(),
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        if let HtmlError::ReauthRequired { next, json } = self {
            let location = format!("/account/reauth?next={}", url_encode(next));
            if *json {
                return HttpResponse::Unauthorized().json(serde_json::json!({
                    "error": "reauth_required",
                    "reauth": location,
                }));
            }
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        let back = match self {
            HtmlError::BackToClient { href, name, .. } => {
                Some((href.clone(), format!("Return to {name}")))
            }
            HtmlError::TwoStepRequired => Some((
                "/account/two-step".to_string(),
                "Turn on two-step verification".to_string(),
            )),
            _ => None,
        };
        let (title, message, reference) = match self {
            HtmlError::BadRequest(m) => ("Bad request", m.clone(), None),
            HtmlError::BackToClient { message, .. } => ("Bad request", message.clone(), None),
            HtmlError::Conflict(m) => ("Conflict", m.clone(), None),
            HtmlError::Forbidden(m) => ("Not allowed", m.clone(), None),
            HtmlError::TwoStepRequired => (
                "Two-step verification required",
                crate::domain::two_step::REQUIRED.to_string(),
                None,
            ),
            HtmlError::NotFound => (
                "Page not found",
                "This page does not exist, or you do not have access to it.".to_string(),
                None,
            ),
            HtmlError::Throttled(s) => (
                "Too many attempts",
                format!(
                    "Too many attempts. Try again in {} minute(s).",
                    (s + 59) / 60
                ),
                None,
            ),
            HtmlError::Internal(r) => (
                "Something went wrong",
                "The server could not complete this request. It has been logged.".to_string(),
                Some(r.clone()),
            ),
            HtmlError::LoginRequired(_) | HtmlError::ReauthRequired { .. } => {
                ("", String::new(), None)
            }
        };
        let view = ErrorView {
            status: status.as_u16(),
            title,
            message,
            reference,
            back,
        };
        let mut resp = HttpResponse::build(status);
        if let HtmlError::Throttled(s) = self {
            resp.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        match view.render() {
            Ok(body) => resp.content_type("text/html; charset=utf-8").body(body),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                resp.content_type("text/plain; charset=utf-8")
                    .body(view.title)
            }
        }
    }
}

/// Percent-encodes a query value (everything outside the unreserved set).
pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---- ApiError: Notion's error object.

/// Notion's error codes and statuses (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    Unauthorized,
    RestrictedResource,
    ObjectNotFound,
    ValidationError,
    InvalidJson,
    RateLimited,
    InternalServerError,
    /// A request the framework refused (too large, wrong method, too slow),
    /// with that status.
    InvalidRequest(StatusCode),
}

impl ApiCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiCode::Unauthorized => "unauthorized",
            ApiCode::RestrictedResource => "restricted_resource",
            ApiCode::ObjectNotFound => "object_not_found",
            ApiCode::ValidationError => "validation_error",
            ApiCode::InvalidJson => "invalid_json",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::InternalServerError => "internal_server_error",
            ApiCode::InvalidRequest(_) => "invalid_request",
        }
    }
    pub fn status(self) -> StatusCode {
        match self {
            ApiCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiCode::RestrictedResource => StatusCode::FORBIDDEN,
            ApiCode::ObjectNotFound => StatusCode::NOT_FOUND,
            ApiCode::ValidationError | ApiCode::InvalidJson => StatusCode::BAD_REQUEST,
            ApiCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ApiCode::InvalidRequest(s) => s,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ApiCode,
    pub message: String,
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` for a 401: where the protected-resource metadata
    /// is (RFC 9728 §5.1), so an MCP client can find the authorization server.
    pub www_authenticate: Option<String>,
    /// The capability a refused call needed (`Refusal::Missing`): for an
    /// OAuth token, `step_up` adds the `insufficient_scope` challenge
    /// naming it (RFC 6750 §3.1; S102).
    pub missing: Option<crate::error::Capability>,
}

#[derive(Serialize)]
struct ApiBody<'a> {
    object: &'static str,
    status: u16,
    code: &'static str,
    message: &'a str,
    request_id: String,
}

impl ApiError {
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
            www_authenticate: None,
            missing: None,
        }
    }
    pub fn not_found_route() -> Self {
        ApiError::new(ApiCode::ObjectNotFound, "Invalid request URL.")
    }

    /// A refusal of the grant in Notion's words, for every `/v1` endpoint:
    /// a missing capability is `restricted_resource` naming it, out of
    /// scope `object_not_found` naming the page or block, exactly as if it
    /// did not exist, a bound `validation_error`.
    fn refused(r: Refusal) -> Self {
        match r {
            Refusal::NotFound(object) => ApiError::new(
                ApiCode::ObjectNotFound,
                format!(
                    "Could not find {} with that ID. Make sure the relevant pages are shared with your integration.",
                    object.as_str()
                ),
            ),
            Refusal::Missing(capability) => ApiError {
                missing: Some(capability),
                ..ApiError::new(
                    ApiCode::RestrictedResource,
                    format!(
                        "Insufficient permissions for this endpoint: it needs the {} capability, which this token was not granted.",
                        capability.as_str()
                    ),
                )
            },
            Refusal::Invalid(m) => ApiError::new(ApiCode::ValidationError, m),
            Refusal::Anchor => ApiError::new(
                ApiCode::ValidationError,
                "body failed validation: body.position.after_block.id should name a block of this page.",
            ),
            // OAuth's, which no `/v1` endpoint meets.
            r @ Refusal::Client { .. } => ApiError::new(ApiCode::Unauthorized, r.to_string()),
            r @ (Refusal::Grant(_)
            | Refusal::GrantType
            | Refusal::Target(_)
            | Refusal::RedirectUri(_)
            | Refusal::Metadata(_)
            | Refusal::Document(_)) => ApiError::new(ApiCode::ValidationError, r.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => {
                ApiError::new(ApiCode::ObjectNotFound, "Could not find the object.")
            }
            AppError::Invalid(m) | AppError::Conflict(m) => {
                ApiError::new(ApiCode::ValidationError, m)
            }
            AppError::Forbidden(m) => ApiError::new(ApiCode::RestrictedResource, m),
            AppError::Refused(r) => ApiError::refused(r),
            AppError::Throttled(s) => ApiError {
                retry_after: Some(s.max(1) as u64),
                ..ApiError::new(
                    ApiCode::RateLimited,
                    "You have been rate limited. Please try again later.",
                )
            },
            other => {
                tracing::error!(error = %other, "api request failed");
                ApiError::new(ApiCode::InternalServerError, "Unexpected error.")
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }
    fn error_response(&self) -> HttpResponse {
        let request_id = crate::crypto::new_uuid();
        let body = ApiBody {
            object: "error",
            status: self.code.status().as_u16(),
            code: self.code.as_str(),
            message: &self.message,
            request_id: request_id.clone(),
        };
        let mut resp = HttpResponse::build(self.code.status());
        resp.insert_header(("x-notion-request-id", request_id));
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if let Some(w) = &self.www_authenticate {
            resp.insert_header((header::WWW_AUTHENTICATE, w.as_str()));
        }
        resp.json(body)
    }
}

// ---- OAuthError: RFC 6749 §5.2 and Notion's shape in one body, `no-store`;
// a 401 carries `WWW-Authenticate: Basic` when the client used Basic.
// Descriptions are ours, never a library's text (S37).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8707 §2: a resource this server does not serve or the grant lacks.
    InvalidTarget,
    ServerError,
    /// RFC 7591 §3.2.2.
    InvalidRedirectUri,
    InvalidClientMetadata,
    /// RFC 6750 §3.1: a registration access token that is not the client's.
    InvalidToken,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::InvalidTarget => "invalid_target",
            OAuthCode::ServerError => "server_error",
            OAuthCode::InvalidRedirectUri => "invalid_redirect_uri",
            OAuthCode::InvalidClientMetadata => "invalid_client_metadata",
            OAuthCode::InvalidToken => "invalid_token",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: OAuthCode,
    pub description: String,
    /// The client authenticated (or tried to) with HTTP Basic.
    pub basic: bool,
    pub status: StatusCode,
    /// Seconds to wait, for a 429.
    pub retry_after: Option<i64>,
}

impl OAuthError {
    pub fn new(code: OAuthCode, description: &str) -> Self {
        let status = match code {
            OAuthCode::InvalidClient | OAuthCode::InvalidToken => StatusCode::UNAUTHORIZED,
            OAuthCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            code,
            description: printable(description),
            basic: false,
            status,
            retry_after: None,
        }
    }
    /// Too many failures (S54): 429 with `Retry-After`, whatever was sent.
    pub fn throttled(retry_after_s: i64) -> Self {
        let mut e = Self::new(
            OAuthCode::InvalidRequest,
            "too many failed attempts, try again later",
        );
        e.status = StatusCode::TOO_MANY_REQUESTS;
        e.retry_after = Some(retry_after_s.max(1));
        e
    }
    pub fn invalid_request(d: &str) -> Self {
        Self::new(OAuthCode::InvalidRequest, d)
    }
    pub fn invalid_grant(d: &str) -> Self {
        Self::new(OAuthCode::InvalidGrant, d)
    }
    pub fn invalid_client(basic: bool) -> Self {
        let mut e = Self::new(OAuthCode::InvalidClient, "client authentication failed");
        e.basic = basic;
        e
    }
    /// A 405 for methods an OAuth endpoint does not take (S24).
    pub fn method_not_allowed() -> Self {
        let mut e = Self::invalid_request("use POST");
        e.status = StatusCode::METHOD_NOT_ALLOWED;
        e
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(m) | AppError::Conflict(m) => OAuthError::invalid_request(&m),
            AppError::Throttled(s) => OAuthError::throttled(s),
            // A client's mistakes stay 4xx: the client may not do this...
            AppError::Forbidden(m) => {
                let mut e = OAuthError::new(OAuthCode::UnauthorizedClient, &m);
                e.status = StatusCode::FORBIDDEN;
                e
            }
            // ...or what it named does not exist.
            AppError::NotFound => {
                let mut e = OAuthError::invalid_request("not found");
                e.status = StatusCode::NOT_FOUND;
                e
            }
            // The OAuth refusals by their codes; a bot's (which no OAuth
            // endpoint meets today) as their kind.
            AppError::Refused(Refusal::NotFound(_)) => {
                let mut e = OAuthError::invalid_request("not found");
                e.status = StatusCode::NOT_FOUND;
                e
            }
            AppError::Refused(Refusal::Grant(m)) => OAuthError::invalid_grant(&m),
            AppError::Refused(Refusal::Client { basic }) => OAuthError::invalid_client(basic),
            AppError::Refused(r @ Refusal::GrantType) => {
                OAuthError::new(OAuthCode::UnsupportedGrantType, &r.to_string())
            }
            AppError::Refused(Refusal::Target(m)) => OAuthError::new(OAuthCode::InvalidTarget, &m),
            AppError::Refused(Refusal::RedirectUri(m)) => {
                OAuthError::new(OAuthCode::InvalidRedirectUri, &m)
            }
            AppError::Refused(Refusal::Metadata(m) | Refusal::Document(m)) => {
                OAuthError::new(OAuthCode::InvalidClientMetadata, &m)
            }
            AppError::Refused(r @ Refusal::Missing(_)) => {
                let mut e = OAuthError::new(OAuthCode::UnauthorizedClient, &r.to_string());
                e.status = StatusCode::FORBIDDEN;
                e
            }
            AppError::Refused(r @ (Refusal::Invalid(_) | Refusal::Anchor)) => {
                OAuthError::invalid_request(&r.to_string())
            }
            other @ (AppError::Db(_) | AppError::Pool(_) | AppError::Internal(_)) => {
                let reference = crate::crypto::new_uuid();
                tracing::error!(%reference, error = %other, "oauth request failed");
                OAuthError::new(
                    OAuthCode::ServerError,
                    "the server could not complete the request",
                )
            }
        }
    }
}

/// RFC 6749 §5.2: `error_description` holds printable ASCII except `"` and
/// `\\` (%x20-21 / %x23-5B / %x5D-7E). Anything else (a quote, a TAB, a BEL,
/// a non-ASCII letter from a client's field name) becomes `?`, and other
/// whitespace (TAB, CR, LF) a space (S37).
fn printable(description: &str) -> String {
    description
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect()
}

#[derive(Serialize)]
struct OAuthBody<'a> {
    error: &'static str,
    error_description: &'a str,
    object: &'static str,
    status: u16,
    code: &'static str,
    message: &'a str,
    request_id: String,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED && self.basic {
            resp.insert_header((
                header::WWW_AUTHENTICATE,
                r#"Basic realm="pagegrant", charset="UTF-8""#,
            ));
        }
        if self.code == OAuthCode::InvalidToken {
            resp.insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
        }
        resp.json(OAuthBody {
            error: self.code.as_str(),
            error_description: &self.description,
            object: "error",
            status: self.status.as_u16(),
            code: self.code.as_str(),
            message: &self.description,
            request_id: crate::crypto::new_uuid(),
        })
    }
}

impl From<RateLimited> for ApiError {
    fn from(r: RateLimited) -> ApiError {
        ApiError {
            retry_after: Some(r.retry_after_s),
            ..ApiError::new(
                ApiCode::RateLimited,
                "You have been rate limited. Please try again in a few seconds.",
            )
        }
    }
}

/// The error of an endpoint a page's script calls (passkeys): the status of
/// the matching `HtmlError` and `{"error": "…"}` in words a person can read,
/// which the script shows as it is.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<i64>,
}

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s.max(1).to_string()));
        }
        resp.insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "error": self.message }))
    }
}

impl From<HtmlError> for JsonError {
    fn from(e: HtmlError) -> Self {
        let status = match e {
            HtmlError::LoginRequired(_) | HtmlError::ReauthRequired { .. } => {
                StatusCode::UNAUTHORIZED
            }
            _ => e.status_code(),
        };
        let (message, retry_after) = match e {
            HtmlError::BadRequest(m)
            | HtmlError::Conflict(m)
            | HtmlError::Forbidden(m)
            | HtmlError::BackToClient { message: m, .. } => (m, None),
            HtmlError::NotFound => ("Not found.".into(), None),
            HtmlError::Throttled(s) => (
                format!(
                    "Too many attempts. Try again in {} minute(s).",
                    (s.max(1) + 59) / 60
                ),
                Some(s),
            ),
            HtmlError::LoginRequired(_) => ("Your session has ended. Log in again.".into(), None),
            HtmlError::ReauthRequired { .. } => (
                "Confirm it's you: enter your password again on the page.".into(),
                None,
            ),
            HtmlError::TwoStepRequired => (
                "This workspace requires two-step verification: turn it on in My account first."
                    .into(),
                None,
            ),
            HtmlError::Internal(reference) => (
                format!("Something went wrong on our side (reference {reference})."),
                None,
            ),
        };
        JsonError {
            status,
            message,
            retry_after,
        }
    }
}

impl From<AppError> for JsonError {
    fn from(e: AppError) -> Self {
        HtmlError::from(e).into()
    }
}
