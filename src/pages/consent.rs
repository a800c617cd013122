//! The consent page behind `/v1/oauth/authorize`. GET validates the request
//! (`oauth::authorize`), asks for a login, and shows the integration, the
//! workspace switcher, **Select pages** and **Allow access** / **Cancel**;
//! each view records a pending request (`domain::consent::prepare`). POST
//! answers that one request, once (`oauth::authorize::answer`). A member
//! the approved list stops asks the owners instead (**Request approval**,
//! issue 27 item 3) and reads the answer on the request's page.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::now;
use crate::db::models::IntegrationId;
use crate::domain::approval_requests::{self, NOTE_MAX};
use crate::domain::consent::{self, Decision, Gate, Plan, PromptValue};
use crate::domain::integrations::unverified;
use crate::domain::tree_cache::TreeCache;
use crate::error::Capability;
use crate::http::errors::{url_encode, HtmlError};
use crate::http::extract::{CurrentUser, LazyUser, Member};
use crate::http::form::{ConsentForm, CsrfForm};
use crate::http::layout::{self, Shell};
use crate::http::layout::{format_time, initial};
use crate::http::{html, see_other};
use crate::oauth::authorize::{
    self, authorize_url_with, AuthorizeError, ErrorRedirect, ValidRequest,
};
use crate::pages::picker::{self, Picker, PickerAction};
use crate::state::AppState;

/// Plain words for each capability, as the consent page lists them.
pub fn capability_words(c: Capability) -> &'static str {
    match c {
        Capability::ReadContent => "Read content",
        Capability::UpdateContent => "Update content",
        Capability::InsertContent => "Insert content",
        Capability::ReadComments => "Read comments",
        Capability::InsertComments => "Insert comments",
        Capability::ReadUserWithEmail => "Read user information including email addresses",
        Capability::ReadUserWithoutEmail => "Read user information without email addresses",
    }
}

pub struct SwitchItem {
    pub name: String,
    pub initial: String,
    pub role: String,
    pub href: String,
    pub current: bool,
}

/// Everything the consent page shows.
pub struct ConsentData {
    pub integration_name: String,
    pub integration_initial: String,
    pub developer: String,
    pub first_party: bool,
    /// Registered itself (RFC 7591): nobody in the workspace reviewed it.
    pub dynamic: bool,
    /// A CIMD client: the verified host serving its metadata document
    /// ("claude.ai"), shown instead of "Registered itself".
    pub cimd_host: Option<String>,
    /// Every registered redirect URI is loopback (says "runs on this
    /// computer" instead of a host).
    pub on_this_computer: bool,
    pub redirect_host: String,
    pub website: Option<String>,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    pub capabilities: Vec<&'static str>,
    /// A reconnect asking for more than the connection holds: the list
    /// above is only what is new ("also wants to"), and this what it
    /// already has (issue 29 item 2).
    pub already: Option<Vec<&'static str>>,
    pub user_email: String,
    pub workspace_name: String,
    pub workspace_initial: String,
    pub switcher: Vec<SwitchItem>,
    pub blocked: Option<String>,
    /// **Select pages**, with **Cancel** and **Allow access** in its footer.
    pub picker: Picker,
    pub request_id: String,
    pub csrf: String,
    /// The session's token, for **Not you?** (log out, then back here).
    pub session_csrf: String,
    /// This very request, to come back to after logging in as someone else.
    pub back: String,
    /// Nobody vouches for it (issue 27 items 1, 2): marked in amber, and
    /// no "By ‹name›", since the name is its own claim.
    pub unverified: bool,
    /// What identifies an unverified client: its metadata document's host,
    /// else where its codes go.
    pub identified_by: String,
    /// Website, privacy policy and terms: (label, href, host).
    pub links: Vec<(&'static str, String, String)>,
    /// An AI agent asking for the MCP server.
    pub agent: Option<consent::McpAgent>,
    /// Show **Request approval** instead of the picker (issue 27 item 3).
    pub can_ask: bool,
    /// A request of this person's is waiting for the owners.
    pub ask_pending: bool,
    /// The latest answer or wait, in a sentence.
    pub asked: Option<String>,
    /// That answer is an approval that still holds (a green note).
    pub asked_approved: bool,
    pub workspace_id: String,
    pub integration_id: String,
    pub note_max: usize,
}

#[derive(Template)]
#[template(path = "consent/authorize.html")]
pub struct ConsentView {
    pub d: ConsentData,
}

impl ConsentView {
    /// The page, rendered into one buffer sized for it. The picker's rows
    /// are most of it (tens of KiB for a workspace of a hundred pages);
    /// grown by doubling from askama's fixed guess, the buffer was copied
    /// several times and took fresh heap pages on every view.
    fn page(&self) -> Result<String, askama::Error> {
        let rows = self.d.picker.list.as_ref().map_or(0, String::len);
        let mut out = String::with_capacity(rows + Self::SIZE_HINT);
        self.render_into(&mut out)?;
        Ok(out)
    }
}

/// Where the integration sends people back to, as a person reads it. Only
/// http(s) URIs name a host; a private-use scheme (`com.example.app:/cb`,
/// RFC 8252 §7.1) names an app on the device, whatever its "host" part says,
/// so `com.evil.app://accounts.google.com/cb` reads as the app
/// `com.evil.app`, never as accounts.google.com (issue 15 #8).
fn redirect_host(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => match u.host_str() {
            Some(h) => match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            },
            None => uri.to_string(),
        },
        Ok(u) => format!("the app {} on your device", u.scheme()),
        Err(_) => uri.to_string(),
    }
}

/// The consent page's picker: its footer holds **Cancel** and **Allow
/// access** (disabled when the install policy blocks this person). Its
/// rows as first rendered are kept with the cached tree (issue 30 item 3):
/// a view renders only the rows that are ticked or carried.
fn consent_picker(plan: &Plan, who: &str, trees: &TreeCache) -> Result<Picker, askama::Error> {
    let button = |value, label: &str, primary, disabled| PickerAction {
        name: "decision",
        value,
        label: label.into(),
        primary,
        disabled,
    };
    let rows = picker::rows(&plan.pages);
    // An error rendering is kept as nothing; `list` then renders every row.
    let plain = trees.rendered(&plan.tree, || {
        picker::plain_rows(&plan.pages).unwrap_or_default()
    });
    Ok(Picker {
        list: Some(picker::list(&rows, &plain)?),
        rows,
        who: who.to_string(),
        open: plan.reconnecting,
        reconnecting: plan.reconnecting,
        actions: vec![
            button("deny", "Cancel", false, false),
            button("allow", "Allow access", true, plan.blocked.is_some()),
        ],
        query: String::new(),
    })
}

/// The host a link names, shown beside it.
fn link_host(u: &str) -> String {
    url::Url::parse(u)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| u.to_string())
}

/// The member's latest request, in a sentence: who answered and when.
fn asked_sentence(a: &approval_requests::Seen, still_blocked: bool) -> String {
    use crate::db::models::ApprovalStatus;
    let by = a.answered_by.as_deref().unwrap_or("An owner");
    let at = a.answered_at.map(format_time).unwrap_or_default();
    match a.status {
        ApprovalStatus::Pending => format!(
            "You asked the owners to approve it on {}. They have not answered yet; you will see their answer here.",
            format_time(a.requested_at)
        ),
        ApprovalStatus::Approved if still_blocked => format!(
            "{by} approved your request on {at}, but it is no longer on the approved list. You can ask again."
        ),
        ApprovalStatus::Approved => format!("{by} approved your request on {at}."),
        ApprovalStatus::Declined => {
            format!("{by} declined your request on {at}. You can ask again.")
        }
    }
}

impl ConsentView {
    fn new(
        req: &ValidRequest,
        user: &CurrentUser,
        plan: Plan,
        back: String,
        trees: &TreeCache,
    ) -> Result<ConsentView, askama::Error> {
        let i = &req.integration;
        let picker = consent_picker(&plan, &i.name, trees)?;
        let cimd_host = i.cimd_expires_at.map(|_| i.developer_name.clone());
        let links = [
            ("Website", &i.website_url),
            ("Privacy policy", &i.privacy_url),
            ("Terms", &i.terms_url),
        ]
        .into_iter()
        .filter_map(|(label, u)| u.as_ref().map(|u| (label, u.clone(), link_host(u))))
        .collect();
        // A step-up: a live connection asking for capabilities it lacks.
        let already = (plan.reconnecting
            && !plan.held.is_empty()
            && !consent::added(&req.scope, &plan.held).is_empty())
        .then(|| plan.held.iter().copied().map(capability_words).collect());
        let ask_pending = plan
            .asked
            .as_ref()
            .is_some_and(|a| a.status == crate::db::models::ApprovalStatus::Pending);
        Ok(ConsentView {
            d: ConsentData {
                unverified: unverified(i),
                identified_by: cimd_host
                    .clone()
                    .unwrap_or_else(|| redirect_host(&req.redirect_uri)),
                links,
                // Said where it matters: while the list stops this person,
                // or when an approval let them in.
                asked: plan
                    .asked
                    .as_ref()
                    .filter(|a| {
                        plan.can_ask
                            || (plan.blocked.is_none()
                                && a.status == crate::db::models::ApprovalStatus::Approved)
                    })
                    .map(|a| asked_sentence(a, plan.blocked.is_some())),
                asked_approved: plan.blocked.is_none()
                    && plan
                        .asked
                        .as_ref()
                        .is_some_and(|a| a.status == crate::db::models::ApprovalStatus::Approved),
                ask_pending,
                can_ask: plan.can_ask,
                workspace_id: plan.workspace.id.to_string(),
                integration_id: i.id.to_string(),
                note_max: NOTE_MAX,
                agent: plan.agent,
                integration_name: i.name.clone(),
                integration_initial: initial(&i.name),
                developer: i.developer_name.clone(),
                first_party: i.first_party,
                dynamic: i.dynamic,
                cimd_host,
                on_this_computer: plan.on_this_computer,
                redirect_host: redirect_host(&req.redirect_uri),
                website: i.website_url.clone(),
                privacy_url: i.privacy_url.clone(),
                terms_url: i.terms_url.clone(),
                capabilities: match &already {
                    Some(_) => consent::added(&req.scope, &plan.held)
                        .into_iter()
                        .map(capability_words)
                        .collect(),
                    None => req
                        .scope
                        .split(' ')
                        .filter(|s| !s.is_empty() && *s != crate::oauth::endpoint::OFFLINE_ACCESS)
                        .map(|s| {
                            Capability::parse(s).map_or("Unknown capability", capability_words)
                        })
                        .collect(),
                },
                already,
                user_email: user.user.email.clone(),
                workspace_name: plan.workspace.name.clone(),
                workspace_initial: initial(&plan.workspace.name),
                switcher: plan
                    .workspaces
                    .iter()
                    .map(|(w, role)| SwitchItem {
                        name: w.name.clone(),
                        initial: initial(&w.name),
                        role: role.to_string(),
                        href: authorize_url_with(&req.pairs, "workspace_id", w.id.as_str()),
                        current: w.id == plan.workspace.id,
                    })
                    .collect(),
                blocked: plan.blocked,
                picker,
                request_id: plan.request_id,
                csrf: plan.csrf,
                session_csrf: user.csrf().to_string(),
                back,
            },
        })
    }
}

use crate::oauth::cimd::Ensured;

pub async fn view_authorize_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: LazyUser,
) -> Result<HttpResponse, HtmlError> {
    let raw = req.query_string().to_string();
    let here = format!("{}?{}", req.path(), req.query_string());
    let user = ensure_cimd(&req, &state, user, &raw, &here).await?;
    // The session, validating the request and preparing the page: one trip,
    // in the grant writer's next batch (it writes the pending request).
    let st = state.clone();
    let step = state
        .grants
        .submit(move |c| {
            let user = user.load(c)?;
            next_step(c, &st, &raw, user)
        })
        .await?;
    match step {
        Step::Refuse(e) => refuse(&state, e),
        Step::Relogin(valid, signed_in) => Ok(see_other(relogin_url(&state, &valid, signed_in)?)),
        Step::Login => Err(HtmlError::LoginRequired(Some(here))),
        Step::Show(shown) => {
            let (valid, user, plan) = *shown;
            let view = ConsentView::new(&valid, &user, plan, here, &state.trees)?;
            Ok(html(view.page()?))
        }
    }
}

/// A client_id that is a URL names its own metadata document: fetched
/// (when the cache expired) here, in async code, before a database thread
/// is taken; what cannot be used is a page, never a redirect. Only then is
/// the session read first (its own trip); any other request reads it with
/// the page.
async fn ensure_cimd(
    req: &HttpRequest,
    state: &AppState,
    user: LazyUser,
    raw: &str,
    here: &str,
) -> Result<LazyUser, HtmlError> {
    let Some(id) = single_client_id(raw).filter(|id| crate::domain::cimd::looks_like_url(id))
    else {
        return Ok(user);
    };
    let user = db::run(&state.pool, move |c| user.load(c)).await?;
    let ip = crate::http::peer_ip(req);
    match crate::oauth::cimd::ensure(state, &id, &ip, user.is_some()).await {
        Ok(Ensured::Ready) => Ok(LazyUser::loaded(user)),
        // A good document, nobody logged in: nothing is stored, and the
        // request (redirect URI included) is judged after login (S71).
        // prompt=none cannot be answered at a redirect URI not yet
        // verified, so it is a page.
        Ok(Ensured::AwaitingLogin) => match prompt_none(raw) {
            true => Err(HtmlError::BadRequest(
                "You are not signed in to this server, and the app asked not to show a sign-in page (prompt=none). Start signing in again from the app.".into(),
            )),
            false => Err(HtmlError::LoginRequired(Some(here.to_string()))),
        },
        Err(crate::error::AppError::Refused(why)) => Err(HtmlError::BadRequest(format!(
            "The app's client metadata document at {id} cannot be used: {why}."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Validates the request, applies `prompt` and `max_age` to the person at
/// hand (`Prompt::gate`), and prepares the page.
fn next_step(
    c: &mut db::Conn,
    st: &AppState,
    raw: &str,
    user: Option<CurrentUser>,
) -> crate::error::AppResult<Step> {
    let valid = match authorize::validate(c, &st.config, raw) {
        Ok(v) => v,
        Err(AuthorizeError::Failed(e)) => return Err(e),
        Err(e) => return Ok(Step::Refuse(e)),
    };
    let fresh = user.as_ref().is_some_and(|u| fresh_login(st, &valid, u));
    // The last proof of identity (a login, or Confirm it's you), as every
    // re-authentication reads it (`extract::Sudo`).
    let start = user.as_ref().map(|u| u.session.proved_at);
    match (valid.prompt.gate(start, fresh, now()), user) {
        (Gate::Refuse(error, description), _) => {
            let redirect = ErrorRedirect {
                redirect_uri: valid.redirect_uri.clone(),
                error,
                description: description.into(),
                state: valid.state.clone(),
            };
            Ok(Step::Refuse(AuthorizeError::at_client(
                redirect,
                &valid.integration,
            )))
        }
        (Gate::Relogin, u) => Ok(Step::Relogin(Box::new(valid), u.is_some())),
        (Gate::Show, Some(u)) => {
            let plan = consent::prepare(c, &st.config, &st.trees, &u.user, &u.session, &valid)?;
            Ok(Step::Show(Box::new((valid, u, plan))))
        }
        // Come back to this very request after logging in.
        (Gate::Login | Gate::Show, _) => Ok(Step::Login),
    }
}

/// Where a GET of the authorization endpoint goes next.
enum Step {
    Refuse(AuthorizeError),
    /// The password again; `true`: the person is signed in (Confirm it's
    /// you), else the login page.
    Relogin(Box<ValidRequest>, bool),
    Login,
    Show(Box<(ValidRequest, CurrentUser, Plan)>),
}

/// Whether the request says `prompt=none` (alone or among other values).
fn prompt_none(raw: &str) -> bool {
    url::form_urlencoded::parse(raw.as_bytes()).any(|(k, v)| {
        k == "prompt"
            && v.split(' ')
                .any(|w| PromptValue::parse(w) == Some(PromptValue::None))
    })
}

/// The request's `client_id` when it is given exactly once.
fn single_client_id(raw: &str) -> Option<String> {
    let mut ids = url::form_urlencoded::parse(raw.as_bytes())
        .filter(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned());
    match (ids.next(), ids.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// An invalid request: an error page, or the error at the client.
fn refuse(state: &AppState, e: AuthorizeError) -> Result<HttpResponse, HtmlError> {
    match e {
        AuthorizeError::Page(m) => Err(HtmlError::BadRequest(m)),
        AuthorizeError::Failed(e) => Err(e.into()),
        AuthorizeError::Redirect(r) => Ok(see_other(r.location(&state.config.server.issuer))),
        AuthorizeError::Link {
            redirect,
            integration_name,
        } => Err(HtmlError::BackToClient {
            message: format!(
                "This link to connect {integration_name} is not valid: {}.",
                redirect.description
            ),
            href: redirect.location(&state.config.server.issuer),
            name: integration_name,
        }),
    }
}

/// The parameter carrying when `prompt=login` sent the person to log in,
/// sealed (SecretBox) with the client id so it cannot be forged or moved.
const LOGIN_SINCE: &str = "login_since";

/// Whether this session began after `prompt=login` asked for a login, for
/// this client, within the consent lifetime.
fn fresh_login(state: &AppState, valid: &ValidRequest, user: &CurrentUser) -> bool {
    let Some((_, sealed)) = valid.pairs.iter().find(|(k, _)| k == LOGIN_SINCE) else {
        return false;
    };
    let Ok(plain) = state.secret_box.decrypt(sealed) else {
        return false;
    };
    let Some((since, client)) = plain.split_once(':') else {
        return false;
    };
    let Ok(since) = since.parse::<i64>() else {
        return false;
    };
    client == valid.integration.client_id
        && now() - since <= state.config.security.consent_ttl_s
        // Strictly later: a session from the same second as the request
        // may be the one that was already there.
        && user.session.proved_at > since
}

/// The password again, coming back to this request marked with when it was
/// asked for: **Confirm it's you** for a signed-in person (the same page
/// sensitive actions use), the login page otherwise.
fn relogin_url(
    state: &AppState,
    valid: &ValidRequest,
    signed_in: bool,
) -> Result<String, HtmlError> {
    let sealed = state
        .secret_box
        .encrypt(&format!("{}:{}", now(), valid.integration.client_id))?;
    let next = authorize_url_with(&valid.pairs, LOGIN_SINCE, &sealed);
    Ok(match signed_in {
        true => format!("/account/reauth?next={}", url_encode(&next)),
        false => format!("/login?fresh=1&next={}", url_encode(&next)),
    })
}

/// The consent form as posted: `page` once per ticked page.
#[derive(Deserialize)]
pub struct ConsentFields {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    csrf: String,
    decision: Option<String>,
    #[serde(default)]
    page: Vec<String>,
}

impl ConsentFields {
    /// The answer as posted: **Allow access** or **Cancel**, nothing else.
    fn decision(self) -> Result<Decision, HtmlError> {
        let allow = match self.decision.as_deref() {
            Some("allow") => true,
            Some("deny") => false,
            _ => {
                return Err(HtmlError::BadRequest(
                    "Choose Allow access or Cancel.".into(),
                ))
            }
        };
        Ok(Decision {
            request_id: self.request_id,
            token: self.csrf,
            allow,
            pages: self.page,
        })
    }
}

pub async fn view_authorize_post(
    state: web::Data<AppState>,
    user: LazyUser,
    form: ConsentForm<ConsentFields>,
) -> Result<HttpResponse, HtmlError> {
    let decision = form.into_inner().decision()?;
    let cfg = state.config.clone();
    // The session and the answer in one trip (issue 30 item 3), in the
    // grant writer's next batch: it writes the decision and the code.
    let location = state
        .grants
        .submit(move |c| match user.load(c)? {
            Some(u) => authorize::answer(c, &cfg, &u.user, &u.session, decision).map(Some),
            None => Ok(None),
        })
        .await?;
    location
        .map(see_other)
        .ok_or(HtmlError::LoginRequired(None))
}

/// **Request approval** as posted from the consent page.
#[derive(Deserialize)]
pub struct RequestFields {
    integration_id: IntegrationId,
    #[serde(default)]
    note: String,
}

pub async fn view_request_approval_post(
    state: web::Data<AppState>,
    form: CsrfForm<RequestFields>,
    m: Member,
) -> Result<HttpResponse, HtmlError> {
    let f = form.into_inner();
    let back = format!(
        "/w/{}/approval-requests/{}",
        m.workspace.id, f.integration_id
    );
    db::run(&state.pool, move |c| {
        let uid = &m.user.user.id;
        approval_requests::request(c, &m.workspace, m.role, uid, &f.integration_id, &f.note)
    })
    .await?;
    Ok(see_other(back))
}

#[derive(Template)]
#[template(path = "workspace/approval_request.html")]
pub struct RequestView {
    pub shell: Shell,
    pub name: String,
    pub status: String,
    pub note: String,
}

#[derive(Deserialize)]
pub struct RequestPath {
    integration_id: IntegrationId,
}

/// The member's own request and its answer (404 when they made none).
pub async fn view_request_approval_get(
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<RequestPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().integration_id;
    let view = db::run(&state.pool, move |c| {
        let (name, seen, still_blocked) =
            approval_requests::mine(c, &m.workspace, m.role, &m.user.user.id, &id)?;
        Ok(RequestView {
            shell: layout::load(c, &m, None)?.shell,
            status: asked_sentence(&seen, still_blocked),
            note: seen.note,
            name,
        })
    })
    .await?;
    Ok(html(view.render()?))
}
