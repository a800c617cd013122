//! Who is asking, as extractor types: a handler that names `Member`, `Owner`
//! or `EnterpriseOwner` cannot run for anyone else (STYLE rule 3). Each is
//! built from the session cookie and the path's `{workspace_id}`; a
//! workspace the user is not in is a 404, as if it did not exist, and a
//! role too low is a 403 page. The session is read once per request and
//! kept in the request's extensions for every extractor that needs it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::db;
use crate::db::models::{Plan, Role, Session, User, Workspace, WorkspaceId};
use crate::domain::{two_step, workspaces};
use crate::error::AppError;
use crate::http::errors::HtmlError;
use crate::http::session;
use crate::state::AppState;

type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, HtmlError>>>>;

/// A logged-in user and their session.
#[derive(Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

impl CurrentUser {
    pub fn csrf(&self) -> &str {
        &self.session.csrf_secret
    }
}

/// The session of this request, loaded at most once.
async fn session_of(req: &HttpRequest) -> Result<Option<CurrentUser>, HtmlError> {
    if let Some(found) = req.extensions().get::<Option<CurrentUser>>() {
        return Ok(found.clone());
    }
    let found = session::load(req)
        .await?
        .map(|(session, user)| CurrentUser { user, session });
    req.extensions_mut().insert(found.clone());
    Ok(found)
}

impl FromRequest for CurrentUser {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            session_of(&req)
                .await?
                .ok_or_else(|| HtmlError::LoginRequired(session::return_path(&req)))
        })
    }
}

/// A page that works with or without a login.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequest for MaybeUser {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(session_of(&req).await?)) })
    }
}

/// A page that works with or without a login and loads the session in its
/// own trip to the database (`load`, inside the handler's `db::run`): one
/// trip instead of two for the consent page (issue 30 item 3).
pub struct LazyUser(Lazy);

enum Lazy {
    /// Another extractor of this request loaded it already.
    Loaded(Box<Option<CurrentUser>>),
    Key(Option<session::SessionKey>),
}

impl LazyUser {
    /// The session and its user, if any; call on a database thread.
    pub fn load(self, c: &mut db::Conn) -> crate::error::AppResult<Option<CurrentUser>> {
        match self.0 {
            Lazy::Loaded(found) => Ok(*found),
            Lazy::Key(None) => Ok(None),
            Lazy::Key(Some(key)) => Ok(
                session::load_with(c, key)?.map(|(session, user)| CurrentUser { user, session })
            ),
        }
    }

    /// One already loaded (`load` gives it back without a query).
    pub fn loaded(found: Option<CurrentUser>) -> LazyUser {
        LazyUser(Lazy::Loaded(Box::new(found)))
    }
}

impl FromRequest for LazyUser {
    type Error = HtmlError;
    type Future = std::future::Ready<Result<Self, HtmlError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The borrow of the extensions ends before reading the cookie
        // (which keeps the parsed cookies in them).
        let loaded = req.extensions().get::<Option<CurrentUser>>().cloned();
        let lazy = match loaded {
            Some(found) => Ok(Lazy::Loaded(Box::new(found))),
            None => session::key_of(req).map(Lazy::Key),
        };
        std::future::ready(lazy.map(LazyUser))
    }
}

/// A member of the path's workspace, with their role in it.
#[derive(Clone)]
pub struct Member {
    pub user: CurrentUser,
    pub workspace: Workspace,
    pub role: Role,
}

impl Member {
    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }
    pub fn workspace_id(&self) -> &WorkspaceId {
        &self.workspace.id
    }
}

async fn member(req: &HttpRequest) -> Result<Member, HtmlError> {
    let user = CurrentUser::from_request(req, &mut Payload::None).await?;
    let ws = req
        .match_info()
        .get("workspace_id")
        .and_then(WorkspaceId::parse)
        .ok_or(HtmlError::NotFound)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| HtmlError::from(AppError::internal("app state missing")))?;
    let uid = user.user.id.clone();
    let (workspace, role) =
        db::run(&state.pool, move |c| workspaces::role_in(c, &ws, &uid)).await?;
    Ok(Member {
        user,
        workspace,
        role,
    })
}

impl FromRequest for Member {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { member(&req).await })
    }
}

/// An owner of the path's workspace.
#[derive(Clone)]
pub struct Owner(pub Member);

impl FromRequest for Owner {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let m = member(&req).await?;
            if !m.is_owner() {
                return Err(HtmlError::Forbidden(format!(
                    "Only the owners of {} can do this. Ask one of them.",
                    m.workspace.name
                )));
            }
            Ok(Owner(m))
        })
    }
}

/// The path's workspace's two-step rule holds for this person (issue 28
/// item 3): a workspace that requires two-step verification refuses those
/// who have not turned it on, with a page linking to where they can. Taken
/// by every handler that connects, manages connections or copies tokens;
/// a path without a workspace passes.
pub struct TwoStepGuard;

impl FromRequest for TwoStepGuard {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(ws) = req
                .match_info()
                .get("workspace_id")
                .and_then(WorkspaceId::parse)
            else {
                return Ok(TwoStepGuard);
            };
            let user = CurrentUser::from_request(&req, &mut Payload::None).await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| HtmlError::from(AppError::internal("app state missing")))?;
            let uid = user.user.id;
            let needs = db::run(&state.pool, move |c| {
                two_step::needs_enrolment(c, &ws, &uid)
            })
            .await?;
            match needs {
                true => Err(HtmlError::TwoStepRequired),
                false => Ok(TwoStepGuard),
            }
        })
    }
}

/// An owner of the path's workspace on the Enterprise plan: the one who may
/// change who installs connections.
#[derive(Clone)]
pub struct EnterpriseOwner(pub Member);

impl FromRequest for EnterpriseOwner {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Owner(m) = Owner::from_request(&req, &mut Payload::None).await?;
            if m.workspace.plan != Plan::Enterprise {
                return Err(HtmlError::Forbidden(
                    "Install restrictions are part of the Enterprise plan.".into(),
                ));
            }
            Ok(EnterpriseOwner(m))
        })
    }
}

/// A signed-in person whose last proof of identity (the login, or **Confirm
/// it's you**) is at most `security.reauth_s` old: "sudo mode". A handler
/// for a sensitive action names it among its arguments, so it cannot run on
/// an old proof. Otherwise the person is sent to `/account/reauth` and back:
/// a GET to the same page, a POST to the page its form is on (the confirm
/// page, `back_of`), where they press the action again; nothing is
/// re-submitted for them. A script asking for JSON gets a 401 naming the page.
#[derive(Clone)]
pub struct Sudo(pub CurrentUser);

impl FromRequest for Sudo {
    type Error = HtmlError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = CurrentUser::from_request(&req, &mut Payload::None).await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| HtmlError::from(AppError::internal("app state missing")))?;
            let reauth_s = state.config.security.reauth_s;
            if crate::domain::sessions::is_recent(&user.session, reauth_s, crate::db::models::now())
            {
                return Ok(Sudo(user));
            }
            let next = session::return_path(&req).unwrap_or_else(|| back_of(req.path()));
            let json = req
                .headers()
                .get(actix_web::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/json"));
            Err(HtmlError::ReauthRequired { next, json })
        })
    }
}

/// The page a sensitive POST's form is on, where the person comes back to
/// after confirming: the confirm page at the same path (removing a member,
/// rotating, deleting, blocking, a connection's token), the integration's
/// page for its token on /developers, Connections for the install policy.
pub fn back_of(path: &str) -> String {
    if path == "/account/passkeys/password" {
        return "/account/passkeys".into();
    }
    if let Some(ws) = path.strip_suffix("/settings/enterprise") {
        return format!("{ws}/settings/connections");
    }
    if path.starts_with("/developers/") {
        if let Some(page) = path.strip_suffix("/token") {
            return page.to_string();
        }
    }
    path.to_string()
}
