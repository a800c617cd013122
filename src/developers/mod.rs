//! **My integrations** at `/developers`, for any logged-in user: create a
//! public or internal integration, see its client id, the secret shown once
//! (after creation and after **Rotate secret**), edit redirect URIs, and for
//! an internal one **Copy internal integration token**. Only an integration's
//! creator manages it; anyone else's id is a 404. The rules live in
//! `crate::integrations`; this module is the pages.

use actix_web::web::{self, Bytes};
use actix_web::{http::header, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::consent::service::capability_words;
use crate::db::models::{
    ClientType, Integration, IntegrationId, IntegrationKind, Role, WorkspaceId, CAPABILITIES,
    DEFAULT_CAPABILITIES,
};
use crate::db::queries::{integrations as iq, users, workspaces};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::integrations::{self, NewIntegration};
use crate::web::csrf;
use crate::web::errors::HtmlError;
use crate::web::session::{CsrfForm, CurrentUser};
use crate::workspace::{format_date, load_any_shell_data, policy, shell_or_bare, Shell};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/developers", web::get().to(view_developers_get))
        .route("/developers", web::post().to(view_developers_post))
        .route("/developers/{id}", web::get().to(view_integration_get))
        .route(
            "/developers/{id}/redirect-uris",
            web::post().to(view_redirect_uris_post),
        )
        .route("/developers/{id}/rotate", web::get().to(view_rotate_get))
        .route("/developers/{id}/rotate", web::post().to(view_rotate_post))
        .route("/developers/{id}/token", web::post().to(view_token_post));
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub icon: String,
    pub kind: &'static str,
    pub workspace: String,
    pub client_id: String,
    pub created_on: String,
}

pub struct CapabilityBox {
    pub name: &'static str,
    pub words: &'static str,
    pub checked: bool,
}

/// The values the create form shows, so a refused form keeps what was typed.
pub struct FormValues {
    pub name: String,
    pub internal: bool,
    pub workspace_id: String,
    pub redirect_uris: String,
    pub website: String,
    pub support_email: String,
    pub icon: String,
    pub public_client: bool,
    pub capabilities: Vec<CapabilityBox>,
}

impl FormValues {
    fn empty() -> Self {
        FormValues {
            name: String::new(),
            internal: false,
            workspace_id: String::new(),
            redirect_uris: String::new(),
            website: String::new(),
            support_email: String::new(),
            icon: String::new(),
            public_client: false,
            capabilities: boxes(&DEFAULT_CAPABILITIES.split(' ').collect::<Vec<_>>()),
        }
    }
}

fn boxes(checked: &[&str]) -> Vec<CapabilityBox> {
    CAPABILITIES
        .iter()
        .map(|c| CapabilityBox {
            name: c,
            words: capability_words(c),
            checked: checked.contains(c),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "developers/list.html")]
pub struct DevelopersView {
    pub shell: Shell,
    pub rows: Vec<Row>,
    /// The user's workspaces, for an internal integration: (id, name).
    pub workspaces: Vec<(String, String)>,
    pub form: FormValues,
    pub error: Option<String>,
}

pub struct Detail {
    pub id: String,
    pub name: String,
    pub icon: String,
    pub internal: bool,
    pub confidential: bool,
    pub client_id: String,
    pub workspace: String,
    pub developer: String,
    pub website: Option<String>,
    pub support_email: Option<String>,
    pub capabilities: Vec<&'static str>,
    pub redirect_uris: Vec<String>,
    pub created_on: String,
}

#[derive(Template)]
#[template(path = "developers/integration.html")]
pub struct IntegrationView {
    pub shell: Shell,
    pub i: Detail,
    /// A secret just made (creation or rotation): shown this once.
    pub secret: Option<String>,
    /// The internal token, after the creator pressed the button.
    pub token: Option<String>,
    pub flash: Option<String>,
    pub error: Option<String>,
    /// What the redirect URI box shows (the refused text after an error).
    pub uris_text: String,
}

#[derive(Template)]
#[template(path = "developers/confirm_rotate.html")]
pub struct RotateView {
    pub shell: Shell,
    pub id: String,
    pub name: String,
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn ok(body: String) -> HttpResponse {
    html(actix_web::http::StatusCode::OK, body)
}

fn icon_or_initial(i: &Integration) -> String {
    match i.icon.as_deref().filter(|s| !s.is_empty()) {
        Some(icon) => icon.to_string(),
        None => i
            .name
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_else(|| "?".into()),
    }
}

fn workspace_name(c: &mut Conn, ws: Option<&WorkspaceId>) -> AppResult<String> {
    Ok(match ws {
        Some(id) => workspaces::by_id(c, id)?
            .map(|w| w.name)
            .unwrap_or_default(),
        None => String::new(),
    })
}

fn rows(c: &mut Conn, user: &CurrentUser) -> AppResult<Vec<Row>> {
    let mut out = Vec::new();
    for i in iq::created_by(c, &user.user.id)? {
        out.push(Row {
            id: i.id.to_string(),
            icon: icon_or_initial(&i),
            kind: if i.kind == "internal" {
                "Internal"
            } else {
                "Public"
            },
            workspace: workspace_name(c, i.workspace_id.as_ref())?,
            client_id: i.client_id.clone(),
            created_on: format_date(i.created_at),
            name: i.name,
        });
    }
    Ok(out)
}

fn detail(c: &mut Conn, i: &Integration) -> AppResult<Detail> {
    Ok(Detail {
        id: i.id.to_string(),
        name: i.name.clone(),
        icon: icon_or_initial(i),
        internal: IntegrationKind::parse(&i.kind) == Some(IntegrationKind::Internal),
        confidential: ClientType::parse(&i.client_type) == Some(ClientType::Confidential),
        client_id: i.client_id.clone(),
        workspace: workspace_name(c, i.workspace_id.as_ref())?,
        developer: i.developer_name.clone(),
        website: i.website_url.clone(),
        support_email: i.support_email.clone(),
        capabilities: CAPABILITIES
            .iter()
            .filter(|x| i.capabilities.split(' ').any(|y| y == **x))
            .map(|x| capability_words(x))
            .collect(),
        redirect_uris: iq::redirect_uris(c, &i.id)?,
        created_on: format_date(i.created_at),
    })
}

#[derive(Deserialize)]
pub struct ShellQuery {
    /// The workspace whose sidebar frames the page.
    w: Option<String>,
    saved: Option<String>,
}

fn preferred(q: &ShellQuery) -> Option<WorkspaceId> {
    q.w.as_deref().and_then(WorkspaceId::parse)
}

async fn list_view(
    state: &AppState,
    user: &CurrentUser,
    w: Option<WorkspaceId>,
    form: FormValues,
    error: Option<String>,
) -> Result<String, HtmlError> {
    let u = user.clone();
    let (loaded, rows, mine) = db::run(&state.pool, move |c| {
        let loaded = load_any_shell_data(c, &u.user.id, w.as_ref())?;
        let rows = rows(c, &u)?;
        let mine = workspaces::for_user(c, &u.user.id)?;
        Ok((loaded, rows, mine))
    })
    .await?;
    let view = DevelopersView {
        shell: shell_or_bare(user, loaded.as_ref()),
        rows,
        workspaces: mine
            .into_iter()
            .map(|(w, _)| (w.id.to_string(), w.name))
            .collect(),
        form,
        error,
    };
    Ok(view.render()?)
}

pub async fn view_developers_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<ShellQuery>,
) -> Result<HttpResponse, HtmlError> {
    let body = list_view(&state, &user, preferred(&q), FormValues::empty(), None).await?;
    Ok(ok(body))
}

fn field(pairs: &[(String, String)], k: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Creates an integration for its creator. An internal one is installed in
/// its workspace at once, so the creator must belong to it and its install
/// policy must let them (owners only under "Only from approved list").
fn create(
    c: &mut Conn,
    state: &AppState,
    user: &CurrentUser,
    form: &FormValues,
) -> AppResult<integrations::Created> {
    let workspace = if form.internal {
        let id = WorkspaceId::parse(&form.workspace_id).ok_or_else(|| {
            AppError::invalid("Choose the workspace of the internal integration.")
        })?;
        let w = workspaces::by_id(c, &id)?
            .ok_or_else(|| AppError::invalid("Choose one of your workspaces."))?;
        let role = workspaces::membership(c, &w.id, &user.user.id)?
            .and_then(|m| Role::parse(&m.role))
            .ok_or_else(|| AppError::invalid("Choose one of your workspaces."))?;
        if let Err(policy::Blocked(why)) = policy::can_create_internal(&w, role) {
            return Err(AppError::Forbidden(why));
        }
        Some(w)
    } else {
        None
    };
    let creator = users::by_id(c, &user.user.id)?.ok_or(AppError::NotFound)?;
    integrations::register(
        c,
        &state.secret_box,
        NewIntegration {
            name: form.name.clone(),
            kind: Some(if form.internal {
                IntegrationKind::Internal
            } else {
                IntegrationKind::Public
            }),
            workspace,
            redirect_uris: if form.internal {
                Vec::new()
            } else {
                form.redirect_uris
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect()
            },
            public_client: form.public_client && !form.internal,
            first_party: false,
            capabilities: form
                .capabilities
                .iter()
                .filter(|b| b.checked)
                .map(|b| b.name.to_string())
                .collect(),
            website_url: non_empty(&form.website),
            support_email: non_empty(&form.support_email),
            developer_name: None,
            icon: non_empty(&form.icon),
            created_by: Some(creator),
            client_id: None,
        },
    )
}

pub async fn view_developers_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<ShellQuery>,
    body: Bytes,
) -> Result<HttpResponse, HtmlError> {
    let pairs = csrf::verify_form(&req, &user.session, &body)?;
    let checked: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "capability")
        .map(|(_, v)| v.clone())
        .collect();
    let form = FormValues {
        name: field(&pairs, "name"),
        internal: field(&pairs, "kind") == "internal",
        workspace_id: field(&pairs, "workspace_id"),
        redirect_uris: field(&pairs, "redirect_uris"),
        website: field(&pairs, "website"),
        support_email: field(&pairs, "support_email"),
        icon: field(&pairs, "icon"),
        public_client: !field(&pairs, "public_client").is_empty(),
        capabilities: boxes(&checked.iter().map(String::as_str).collect::<Vec<_>>()),
    };
    if checked.iter().any(|c| !CAPABILITIES.contains(&c.as_str())) {
        return Err(HtmlError::BadRequest("Unknown capability.".into()));
    }
    let w = preferred(&q);
    let st = state.clone();
    let u = user.clone();
    let w2 = w.clone();
    let (result, form) = db::run(&state.pool, move |c| {
        let made = match create(c, &st, &u, &form) {
            Ok(made) => made,
            Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
                return Ok((Err(e), form))
            }
            Err(e) => return Err(e),
        };
        let loaded = load_any_shell_data(c, &u.user.id, w2.as_ref())?;
        let d = detail(c, &made.integration)?;
        Ok((Ok((loaded, d, made)), form))
    })
    .await?;
    match result {
        Ok((loaded, d, made)) => {
            let view = IntegrationView {
                shell: shell_or_bare(&user, loaded.as_ref()),
                uris_text: d.redirect_uris.join("\n"),
                i: d,
                secret: made.client_secret.clone(),
                token: made.internal_token.clone(),
                flash: Some(format!("Created {}", made.integration.name)),
                error: None,
            };
            Ok(ok(view.render()?))
        }
        Err(e) => {
            let status = match &e {
                AppError::Forbidden(_) => actix_web::http::StatusCode::FORBIDDEN,
                _ => actix_web::http::StatusCode::BAD_REQUEST,
            };
            let msg = e.to_string();
            let body = list_view(&state, &user, w, form, Some(msg)).await?;
            Ok(html(status, body))
        }
    }
}

fn parse_id(raw: &str) -> Result<IntegrationId, HtmlError> {
    IntegrationId::parse(raw).ok_or(HtmlError::NotFound)
}

struct Shown {
    secret: Option<String>,
    token: Option<String>,
    flash: Option<String>,
    error: Option<String>,
    uris_text: Option<String>,
}

async fn integration_page(
    state: &AppState,
    user: &CurrentUser,
    id: IntegrationId,
    w: Option<WorkspaceId>,
    shown: Shown,
) -> Result<String, HtmlError> {
    let uid = user.user.id.clone();
    let (loaded, d) = db::run(&state.pool, move |c| {
        let i = integrations::owned(c, &id, &uid)?;
        let loaded = load_any_shell_data(c, &uid, w.as_ref().or(i.workspace_id.as_ref()))?;
        Ok((loaded, detail(c, &i)?))
    })
    .await?;
    let view = IntegrationView {
        shell: shell_or_bare(user, loaded.as_ref()),
        uris_text: shown
            .uris_text
            .unwrap_or_else(|| d.redirect_uris.join("\n")),
        i: d,
        secret: shown.secret,
        token: shown.token,
        flash: shown.flash,
        error: shown.error,
    };
    Ok(view.render()?)
}

pub async fn view_integration_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<ShellQuery>,
) -> Result<HttpResponse, HtmlError> {
    let id = parse_id(&path)?;
    let flash = match q.saved.as_deref() {
        Some("uris") => Some("Saved the redirect URIs".to_string()),
        _ => None,
    };
    let body = integration_page(
        &state,
        &user,
        id,
        preferred(&q),
        Shown {
            secret: None,
            token: None,
            flash,
            error: None,
            uris_text: None,
        },
    )
    .await?;
    Ok(ok(body))
}

pub async fn view_redirect_uris_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, HtmlError> {
    let pairs = csrf::verify_form(&req, &user.session, &body)?;
    let id = parse_id(&path)?;
    let text = field(&pairs, "redirect_uris");
    let given: Vec<String> = text.lines().map(String::from).collect();
    let uid = user.user.id.clone();
    let id2 = id.clone();
    let result = db::run(&state.pool, move |c| match integrations::set_redirect_uris(
        c, &id2, &uid, &given,
    ) {
        Ok(_) => Ok(Ok(())),
        Err(AppError::Invalid(m)) => Ok(Err(m)),
        Err(e) => Err(e),
    })
    .await?;
    match result {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/developers/{id}?saved=uris")))
            .finish()),
        Err(msg) => {
            let body = integration_page(
                &state,
                &user,
                id,
                None,
                Shown {
                    secret: None,
                    token: None,
                    flash: None,
                    error: Some(msg),
                    uris_text: Some(text),
                },
            )
            .await?;
            Ok(html(actix_web::http::StatusCode::BAD_REQUEST, body))
        }
    }
}

pub async fn view_rotate_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, HtmlError> {
    let id = parse_id(&path)?;
    let uid = user.user.id.clone();
    let (loaded, i) = db::run(&state.pool, move |c| {
        let i = integrations::owned(c, &id, &uid)?;
        if ClientType::parse(&i.client_type) != Some(ClientType::Confidential) {
            return Err(AppError::invalid(
                "This integration has no client secret to rotate.",
            ));
        }
        Ok((load_any_shell_data(c, &uid, None)?, i))
    })
    .await?;
    let view = RotateView {
        shell: shell_or_bare(&user, loaded.as_ref()),
        id: i.id.to_string(),
        name: i.name,
    };
    Ok(ok(view.render()?))
}

pub async fn view_rotate_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let id = parse_id(&path)?;
    let uid = user.user.id.clone();
    let id2 = id.clone();
    let (i, secret) = db::run(&state.pool, move |c| {
        integrations::rotate_secret(c, &id2, &uid)
    })
    .await?;
    let body = integration_page(
        &state,
        &user,
        id,
        None,
        Shown {
            secret: Some(secret),
            token: None,
            flash: Some(format!(
                "Rotated the secret of {}; the old secret no longer works",
                i.name
            )),
            error: None,
            uris_text: None,
        },
    )
    .await?;
    Ok(ok(body))
}

pub async fn view_token_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: Option<web::Form<CsrfForm>>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(
        &req,
        &user.session,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    )?;
    let id = parse_id(&path)?;
    let uid = user.user.id.clone();
    let id2 = id.clone();
    let st = state.clone();
    let token = db::run(&state.pool, move |c| {
        integrations::creator_token(c, &st.secret_box, &id2, &uid)
    })
    .await?;
    let body = integration_page(
        &state,
        &user,
        id,
        None,
        Shown {
            secret: None,
            token: Some(token),
            flash: None,
            error: None,
            uris_text: None,
        },
    )
    .await?;
    Ok(ok(body))
}
