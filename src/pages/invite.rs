//! `/invite/{token}`: the sign-up page behind an invitation link (issue 27
//! item 5). Name and password (the rules of every password), then the
//! account is made, joins the workspace with the invited role, is signed in
//! and lands in the workspace. A link used, revoked, replaced or expired is
//! a page saying so. The form has no session yet, so it is bound like the
//! login form (a double-submit cookie). The rules are
//! `crate::domain::invitations`'.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::crypto;
use crate::db;
use crate::db::models::Role;
use crate::domain::accounts::MIN_PASSWORD_LEN;
use crate::domain::invitations::{self, Accepted, LinkStatus, Opened, SignUp};
use crate::error::AppError;
use crate::http::csrf;
use crate::http::errors::HtmlError;
use crate::http::form::LoginForm;
use crate::http::layout::format_date;
use crate::http::see_other;
use crate::http::session::{cookie_name, session_cookie};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "invite/signup.html")]
pub struct SignUpView {
    pub csrf: String,
    pub token: String,
    pub workspace: String,
    pub invited_by: String,
    pub role: &'static str,
    pub email: String,
    pub name: String,
    pub expires_on: String,
    pub min_password: usize,
    pub error: Option<String>,
}

impl SignUpView {
    fn of(o: &Opened, token: String, csrf: String, name: String, error: Option<String>) -> Self {
        SignUpView {
            csrf,
            token,
            workspace: o.workspace.name.clone(),
            invited_by: o.invited_by.clone(),
            role: match o.invitation.role {
                Role::Owner => "an owner",
                Role::Member => "a member",
            },
            email: o.invitation.email.clone(),
            name,
            expires_on: format_date(o.invitation.expires_at),
            min_password: MIN_PASSWORD_LEN,
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "invite/ended.html")]
pub struct EndedView {
    pub title: &'static str,
    pub message: String,
}

/// The page for a link that does not work (any more), with its status.
fn ended(o: Option<&Opened>) -> Result<HttpResponse, HtmlError> {
    let ws = |o: &Opened| o.workspace.name.clone();
    let (status, title, message) = match o.map(|o| (o, o.status)) {
        None => (
            StatusCode::NOT_FOUND,
            "This invitation link is not valid",
            "Check that the whole link was copied, or ask the person who invited you for a new one.".to_string(),
        ),
        Some((o, LinkStatus::Used)) => (
            StatusCode::GONE,
            "This invitation has already been used",
            format!("The account it made can log in to {}. An invitation link works once.", ws(o)),
        ),
        Some((o, LinkStatus::Revoked)) => (
            StatusCode::GONE,
            "This invitation was revoked",
            format!("An owner of {} withdrew it. Ask them for a new one if you should still join.", ws(o)),
        ),
        Some((o, LinkStatus::Replaced)) => (
            StatusCode::GONE,
            "This invitation link was replaced",
            format!("{} sent a newer invitation to {}; use the link in that one.", o.invited_by, o.invitation.email),
        ),
        Some((o, LinkStatus::Expired)) => (
            StatusCode::GONE,
            "This invitation has expired",
            format!("It worked until {}. Ask {} for a new one.", format_date(o.invitation.expires_at), o.invited_by),
        ),
        Some((o, _)) => (
            StatusCode::CONFLICT,
            "You already have an account",
            format!("{} has a pagegrant account now. Log in, and ask an owner of {} to add you.", o.invitation.email, ws(o)),
        ),
    };
    let body = EndedView { title, message }.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// A page with the login form's CSRF cookie set when it was new.
fn with_cookie(
    status: StatusCode,
    body: String,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, HtmlError> {
    let mut resp = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body);
    if let Some(c) = cookie {
        resp.add_cookie(&c)
            .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct InvitePath {
    token: String,
}

/// A token of the shape the server makes (256 bits, base64url), or None:
/// anything else is not looked up.
fn token_of(path: web::Path<InvitePath>) -> Option<String> {
    let t = path.into_inner().token;
    (t.len() == 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(t)
}

pub async fn view_invite_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<InvitePath>,
) -> Result<HttpResponse, HtmlError> {
    let Some(token) = token_of(path) else {
        return ended(None);
    };
    let t = token.clone();
    let opened = match db::run(&state.pool, move |c| invitations::open(c, &t)).await {
        Err(AppError::NotFound) => return ended(None),
        other => other?,
    };
    if opened.status != LinkStatus::Open {
        return ended(Some(&opened));
    }
    let (csrf, cookie) = csrf::login_token(&req, state.config.issuer_is_https());
    let body = SignUpView::of(&opened, token, csrf, String::new(), None).render()?;
    with_cookie(StatusCode::OK, body, cookie)
}

#[derive(Deserialize)]
pub struct SignUpFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

impl SignUpFields {
    /// What `invitations::accept` judges; the browser's old session (if
    /// any) ends, as at login.
    fn sign_up(self, req: &HttpRequest, secure: bool, token: &str) -> SignUp {
        SignUp {
            token: token.to_string(),
            name: self.name,
            password: self.password,
            replaces: req
                .cookie(cookie_name(secure))
                .map(|c| crypto::sha256_hex(c.value())),
        }
    }
}

/// **Create account and join**: the account, the membership and a session
/// in one step, then the workspace.
pub async fn view_invite_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<InvitePath>,
    LoginForm(f): LoginForm<SignUpFields>,
) -> Result<HttpResponse, HtmlError> {
    let Some(token) = token_of(path) else {
        return ended(None);
    };
    let secure = state.config.issuer_is_https();
    let ttl = state.config.security.session_ttl_s;
    let again = (token.clone(), f.csrf.clone(), f.name.clone());
    let form = f.sign_up(&req, secure, &token);
    match invitations::accept(&state.pool, &state.passwords, ttl, form).await {
        Err(AppError::NotFound) => ended(None),
        Err(e) => Err(e.into()),
        Ok(Accepted::Ended(o)) => ended(Some(&o)),
        Ok(Accepted::Refused(o, why)) => {
            let (token, csrf, name) = again;
            let body = SignUpView::of(&o, token, csrf, name, Some(why)).render()?;
            with_cookie(StatusCode::BAD_REQUEST, body, None)
        }
        Ok(Accepted::Joined {
            user,
            workspace,
            cookie,
        }) => joined(secure, ttl, &user, &workspace, cookie),
    }
}

/// Signed in as the new account, off to the workspace.
fn joined(
    secure: bool,
    ttl: i64,
    user: &crate::db::models::User,
    workspace: &crate::db::models::WorkspaceId,
    cookie: String,
) -> Result<HttpResponse, HtmlError> {
    tracing::info!(user = %user.id, "joined through an invitation");
    let mut resp = see_other(format!("/w/{workspace}"));
    resp.add_cookie(&session_cookie(secure, cookie, Some(ttl)))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(resp)
}
