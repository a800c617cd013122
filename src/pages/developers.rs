//! **My integrations** at `/developers`, for any logged-in user: create a
//! public or internal integration, see its client id, the secret shown once
//! (after creation and after **Rotate secret**), edit redirect URIs, and for
//! an internal one **Copy internal integration token**. Only an integration's
//! creator manages it; anyone else's id is a 404. The rules live in
//! `crate::domain::integrations`; this module is the pages.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{
    ClientType, Integration, IntegrationId, IntegrationKind, WorkspaceId, DEFAULT_CAPABILITIES,
};
use crate::db::{self, Conn};
use crate::domain::integrations::{self, Draft};
use crate::domain::{connections, workspaces};
use crate::error::{AppError, AppResult, Capability};
use crate::http::errors::HtmlError;
use crate::http::extract::{CurrentUser, Sudo};
use crate::http::form::{CsrfForm, NoFields};
use crate::http::layout::{self, format_date, Shell};
use crate::http::once;
use crate::http::see_other;
use crate::pages::consent::capability_words;
use crate::pages::picker::{access_picker, access_saved, Picker};
use crate::state::AppState;

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

/// Why a field was refused, shown next to it.
#[derive(Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub workspace_id: Option<String>,
    pub redirect_uris: Option<String>,
    pub website: Option<String>,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    pub support_email: Option<String>,
    pub icon: Option<String>,
    pub capability: Option<String>,
}

impl FieldErrors {
    fn from(found: Vec<(&'static str, String)>) -> Self {
        let mut e = FieldErrors::default();
        for (field, msg) in found {
            let slot = match field {
                "name" => &mut e.name,
                "workspace_id" => &mut e.workspace_id,
                "redirect_uris" => &mut e.redirect_uris,
                "website" => &mut e.website,
                "privacy_url" => &mut e.privacy_url,
                "terms_url" => &mut e.terms_url,
                "support_email" => &mut e.support_email,
                "icon" => &mut e.icon,
                _ => &mut e.capability,
            };
            slot.get_or_insert(msg);
        }
        e
    }

    fn any(&self) -> bool {
        [
            &self.name,
            &self.workspace_id,
            &self.redirect_uris,
            &self.website,
            &self.privacy_url,
            &self.terms_url,
            &self.support_email,
            &self.icon,
            &self.capability,
        ]
        .iter()
        .any(|x| x.is_some())
    }
}

/// The values the create form shows, so a refused form keeps what was typed.
pub struct FormValues {
    pub name: String,
    pub internal: bool,
    pub workspace_id: String,
    pub redirect_uris: String,
    pub website: String,
    pub privacy_url: String,
    pub terms_url: String,
    pub support_email: String,
    pub icon: String,
    pub public_client: bool,
    /// The content capabilities, as checkboxes.
    pub capabilities: Vec<CapabilityBox>,
    /// The user-information radio group: its choices and the chosen one
    /// ("" for none).
    pub user_info: Vec<CapabilityBox>,
    pub errors: FieldErrors,
}

impl FormValues {
    fn empty() -> Self {
        let defaults: Vec<Capability> = DEFAULT_CAPABILITIES
            .split(' ')
            .filter_map(Capability::parse)
            .collect();
        FormValues {
            name: String::new(),
            internal: false,
            workspace_id: String::new(),
            redirect_uris: String::new(),
            website: String::new(),
            privacy_url: String::new(),
            terms_url: String::new(),
            support_email: String::new(),
            icon: String::new(),
            public_client: false,
            capabilities: boxes(&defaults),
            user_info: radios(&defaults),
            errors: FieldErrors::default(),
        }
    }

    fn user_info_none(&self) -> bool {
        !self.user_info.iter().any(|b| b.checked)
    }
}

fn boxes(checked: &[Capability]) -> Vec<CapabilityBox> {
    Capability::ALL
        .iter()
        .filter(|c| !Capability::USER_INFO.contains(c))
        .map(|&c| CapabilityBox {
            name: c.as_str(),
            words: capability_words(c),
            checked: checked.contains(&c),
        })
        .collect()
}

/// The two user-information levels exclude each other: one radio group,
/// with "none".
fn radios(checked: &[Capability]) -> Vec<CapabilityBox> {
    // The first of the two that is checked wins; the domain refuses both anyway.
    let chosen = Capability::USER_INFO
        .into_iter()
        .find(|c| checked.contains(c));
    Capability::USER_INFO
        .into_iter()
        .map(|c| CapabilityBox {
            name: c.as_str(),
            words: capability_words(c),
            checked: chosen == Some(c),
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
    pub flash: Option<String>,
    /// **Search integrations** (`?q=`): rows are those whose name holds it.
    pub q: String,
    /// How many integrations the user has before the search.
    pub total: usize,
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
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    pub support_email: Option<String>,
    pub capabilities: Vec<&'static str>,
    pub redirect_uris: Vec<String>,
    pub created_on: String,
    /// Nobody vouches for it yet (issue 27 item 1): it is reached only
    /// through its own authorization link.
    pub unverified: bool,
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
    /// An internal integration's **Access**: the pages it reaches, in the
    /// consent page's picker (`None`: public, or nothing to edit).
    pub access: Option<Picker>,
}

#[derive(Template)]
#[template(path = "developers/confirm_rotate.html")]
pub struct RotateView {
    pub shell: Shell,
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "developers/confirm_delete.html")]
pub struct DeleteView {
    pub shell: Shell,
    pub id: String,
    pub name: String,
    pub internal: bool,
    /// Where its connections are: (workspace name, how many).
    pub reach: Vec<(String, usize)>,
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn ok(body: String) -> HttpResponse {
    html(StatusCode::OK, body)
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
        Some(id) => workspaces::name(c, id)?.unwrap_or_default(),
        None => String::new(),
    })
}

fn rows(c: &mut Conn, user: &CurrentUser) -> AppResult<Vec<Row>> {
    let mut out = Vec::new();
    for i in integrations::created_by(c, &user.user.id)? {
        out.push(Row {
            id: i.id.to_string(),
            icon: icon_or_initial(&i),
            kind: if i.kind == IntegrationKind::Internal {
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
        internal: i.kind == IntegrationKind::Internal,
        confidential: i.client_type == ClientType::Confidential,
        unverified: integrations::unverified(i),
        client_id: i.client_id.clone(),
        workspace: workspace_name(c, i.workspace_id.as_ref())?,
        developer: i.developer_name.clone(),
        website: i.website_url.clone(),
        privacy_url: i.privacy_url.clone(),
        terms_url: i.terms_url.clone(),
        support_email: i.support_email.clone(),
        capabilities: Capability::ALL
            .iter()
            .filter(|x| x.in_text(&i.capabilities))
            .map(|&x| capability_words(x))
            .collect(),
        redirect_uris: integrations::redirect_uris(c, &i.id)?,
        created_on: format_date(i.created_at),
    })
}

#[derive(Deserialize)]
pub struct ShellQuery {
    /// The workspace whose sidebar frames the page.
    w: Option<String>,
    /// My integrations' search.
    q: Option<String>,
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
    flash: Option<String>,
    q: &str,
) -> Result<String, HtmlError> {
    let u = user.clone();
    let (loaded, rows, mine) = db::run(&state.pool, move |c| {
        let loaded = layout::load_any(c, &u, w.as_ref())?;
        let rows = rows(c, &u)?;
        let mine = workspaces::of_user(c, &u.user.id)?;
        Ok((loaded, rows, mine))
    })
    .await?;
    let total = rows.len();
    let needle = q.trim().to_lowercase();
    let rows = rows
        .into_iter()
        .filter(|r| r.name.to_lowercase().contains(&needle))
        .collect();
    let view = DevelopersView {
        shell: loaded,
        rows,
        q: q.trim().to_string(),
        total,
        workspaces: mine
            .into_iter()
            .map(|(w, _)| (w.id.to_string(), w.name))
            .collect(),
        form,
        error,
        flash,
    };
    Ok(view.render()?)
}

/// A response that also deletes a one-time note once it has been read.
fn with_removal(mut resp: HttpResponse, removal: Option<Cookie<'static>>) -> HttpResponse {
    if let Some(c) = removal {
        // A cookie built here always encodes into a header value.
        let _ = resp.add_cookie(&c);
    }
    resp
}

/// A 303 to `location` carrying a one-time note for the page there.
fn see_other_with(
    state: &AppState,
    user: &CurrentUser,
    location: String,
    note: once::Note,
) -> HttpResponse {
    let mut resp = see_other(location);
    if let Some(c) = once::seal(
        &state.secret_box,
        &user.session,
        state.config.issuer_is_https(),
        note,
    ) {
        let _ = resp.add_cookie(&c);
    }
    resp
}

async fn take_note(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    integration: Option<&str>,
) -> Result<(Option<once::Note>, Option<Cookie<'static>>), HtmlError> {
    Ok(once::take(
        req,
        &state.pool,
        &state.secret_box,
        &user.session,
        state.config.issuer_is_https(),
        integration,
    )
    .await?)
}

pub async fn view_developers_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<ShellQuery>,
) -> Result<HttpResponse, HtmlError> {
    let (note, removal) = take_note(&req, &state, &user, None).await?;
    let flash = note
        .filter(|n| n.event == "deleted")
        .map(|n| format!("Deleted {}; its connections have ended", n.name));
    let body = list_view(
        &state,
        &user,
        preferred(&q),
        FormValues::empty(),
        None,
        flash,
        q.q.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(with_removal(ok(body), removal))
}

/// The create form as posted: `capability` once per ticked box, plus the
/// user-information radio (empty for none).
#[derive(Deserialize)]
pub struct CreateFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    privacy_url: String,
    #[serde(default)]
    terms_url: String,
    #[serde(default)]
    support_email: String,
    #[serde(default)]
    icon: String,
    public_client: Option<String>,
    #[serde(default)]
    capability: Vec<String>,
}

impl CreateFields {
    /// What the form shows again if the integration is refused.
    fn values(&self) -> FormValues {
        let t = |s: &str| s.trim().to_string();
        let chosen: Vec<Capability> = self
            .capability
            .iter()
            .filter_map(|c| Capability::parse(c))
            .collect();
        FormValues {
            name: t(&self.name),
            internal: IntegrationKind::parse(self.kind.trim()) == Some(IntegrationKind::Internal),
            workspace_id: t(&self.workspace_id),
            redirect_uris: t(&self.redirect_uris),
            website: t(&self.website),
            privacy_url: t(&self.privacy_url),
            terms_url: t(&self.terms_url),
            support_email: t(&self.support_email),
            icon: t(&self.icon),
            public_client: self
                .public_client
                .as_deref()
                .is_some_and(|v| !v.trim().is_empty()),
            capabilities: boxes(&chosen),
            user_info: radios(&chosen),
            errors: FieldErrors::default(),
        }
    }
}

impl CreateFields {
    /// The draft of what was shown, with the capabilities as posted, not as
    /// the radio group can show them: both user-information levels at once
    /// must be refused, not dropped.
    fn draft(&self, form: &FormValues) -> Draft {
        let mut d = draft(form);
        d.capabilities = self
            .capability
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect();
        d
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn draft(f: &FormValues) -> Draft {
    Draft {
        name: f.name.clone(),
        internal: f.internal,
        workspace_id: f.workspace_id.clone(),
        redirect_uris: f
            .redirect_uris
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        public_client: f.public_client,
        capabilities: f
            .capabilities
            .iter()
            .chain(f.user_info.iter())
            .filter(|b| b.checked)
            .map(|b| b.name.to_string())
            .collect(),
        website_url: non_empty(&f.website),
        privacy_url: non_empty(&f.privacy_url),
        terms_url: non_empty(&f.terms_url),
        support_email: non_empty(&f.support_email),
        icon: non_empty(&f.icon),
    }
}

/// **Create integration**: refusals go next to their fields; success is a
/// 303 to the integration's page, which shows the secret or token once
/// (Post/Redirect/Get: a reload there creates nothing).
pub async fn view_developers_post(
    state: web::Data<AppState>,
    form: CsrfForm<CreateFields>,
    user: CurrentUser,
    q: web::Query<ShellQuery>,
) -> Result<HttpResponse, HtmlError> {
    let fields = form.into_inner();
    let (mut form, w) = (fields.values(), preferred(&q));
    let d = fields.draft(&form);
    form.errors = FieldErrors::from(integrations::check_form(&d, &fields.capability)?);
    if form.errors.any() {
        return form_again(&state, &user, w, form, StatusCode::BAD_REQUEST, None).await;
    }
    let (st, u) = (state.clone(), user.clone());
    let made = db::run(&state.pool, move |c| {
        Ok(integrations::create_for(c, &st.secret_box, &u.user.id, d))
    })
    .await?;
    match made {
        Ok(made) => {
            let (to, note) = created(made, &w);
            Ok(see_other_with(&state, &user, to, note))
        }
        Err(e) => {
            let (status, msg) = HtmlError::from(e).refusal()?;
            let error = Some(integrations::sentence(&msg));
            form_again(&state, &user, w, form, status, error).await
        }
    }
}

/// A refused create form again with what was typed and why (next to the
/// fields, or `error` for a refusal that belongs to none), at `status`.
async fn form_again(
    state: &AppState,
    user: &CurrentUser,
    w: Option<WorkspaceId>,
    form: FormValues,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, HtmlError> {
    let body = list_view(state, user, w, form, error, None, "").await?;
    Ok(html(status, body))
}

/// Where **Create integration** goes (the integration's page, keeping the
/// sidebar of the workspace the person came from) and the note that shows
/// its secret or token there once.
fn created(made: integrations::Created, w: &Option<WorkspaceId>) -> (String, once::Note) {
    let id = made.integration.id.to_string();
    let to = match w {
        Some(ws) => format!("/developers/{id}?w={ws}"),
        None => format!("/developers/{id}"),
    };
    let note = once::Note {
        event: "created".into(),
        integration: Some(id),
        name: made.integration.name,
        client_secret: made.client_secret,
        internal_token: made.internal_token,
        about: None,
    };
    (to, note)
}

#[derive(Deserialize)]
pub struct IntegrationPath {
    id: IntegrationId,
}

#[derive(Default)]
struct Shown {
    secret: Option<String>,
    token: Option<String>,
    flash: Option<String>,
    error: Option<String>,
    uris_text: Option<String>,
}

impl Shown {
    /// What the page shows after a redirect here: the one-time note of a
    /// creation, a rotation (with its secret or token) or a save.
    fn after(note: Option<once::Note>) -> Shown {
        let mut flash = None;
        let (mut secret, mut token) = (None, None);
        if let Some(n) = note {
            flash = match n.event.as_str() {
                "saved_uris" => Some("Saved the redirect URIs".to_string()),
                "created" => Some(format!("Created {}", n.name)),
                "rotated" => Some(format!(
                    "Rotated the secret of {}; the old secret no longer works",
                    n.name
                )),
                "access" => Some(n.name.clone()),
                _ => flash,
            };
            secret = n.client_secret;
            token = n.internal_token;
        }
        Shown {
            secret,
            token,
            flash,
            ..Shown::default()
        }
    }
}

async fn integration_page(
    state: &AppState,
    user: &CurrentUser,
    id: IntegrationId,
    w: Option<WorkspaceId>,
    shown: Shown,
) -> Result<String, HtmlError> {
    let u = user.clone();
    let (loaded, d, access) = db::run(&state.pool, move |c| {
        let i = integrations::owned(c, &id, &u.user.id)?;
        let loaded = layout::load_any(c, &u, w.as_ref().or(i.workspace_id.as_ref()))?;
        let access = connections::developer_access(c, &id, &u.user.id)?;
        Ok((loaded, detail(c, &i)?, access.as_ref().map(access_picker)))
    })
    .await?;
    let view = IntegrationView {
        shell: loaded,
        uris_text: shown
            .uris_text
            .unwrap_or_else(|| d.redirect_uris.join("\n")),
        i: d,
        secret: shown.secret,
        token: shown.token,
        flash: shown.flash,
        error: shown.error,
        access,
    };
    Ok(view.render()?)
}

pub async fn view_integration_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<IntegrationPath>,
    q: web::Query<ShellQuery>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let (note, removal) = take_note(&req, &state, &user, Some(id.as_str())).await?;
    let shown = Shown::after(note);
    let body = integration_page(&state, &user, id, preferred(&q), shown).await?;
    Ok(with_removal(ok(body), removal))
}

#[derive(Deserialize)]
pub struct UrisFields {
    #[serde(default)]
    redirect_uris: String,
}

/// Back to the integration after its redirect URIs were saved, with a
/// one-time note saying so.
fn saved_uris(state: &AppState, user: &CurrentUser, id: &IntegrationId) -> HttpResponse {
    let note = once::Note {
        event: "saved_uris".into(),
        integration: Some(id.to_string()),
        ..once::Note::default()
    };
    see_other_with(state, user, format!("/developers/{id}"), note)
}

pub async fn view_redirect_uris_post(
    state: web::Data<AppState>,
    form: CsrfForm<UrisFields>,
    user: CurrentUser,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let text = form.into_inner().redirect_uris.trim().to_string();
    let given: Vec<String> = text.lines().map(String::from).collect();
    let (uid, id2) = (user.user.id.clone(), id.clone());
    let result = db::run(&state.pool, move |c| {
        Ok(integrations::set_redirect_uris(c, &id2, &uid, &given))
    })
    .await?;
    match result {
        Ok(_) => Ok(saved_uris(&state, &user, &id)),
        Err(AppError::Invalid(msg)) => {
            let shown = Shown {
                error: Some(msg),
                uris_text: Some(text),
                ..Shown::default()
            };
            let body = integration_page(&state, &user, id, None, shown).await?;
            Ok(html(StatusCode::BAD_REQUEST, body))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn view_rotate_get(
    state: web::Data<AppState>,
    Sudo(user): Sudo,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let u = user.clone();
    let (loaded, i) = db::run(&state.pool, move |c| {
        let i = integrations::owned(c, &id, &u.user.id)?;
        if i.client_type != ClientType::Confidential {
            return Err(AppError::invalid(
                "This integration has no client secret to rotate.",
            ));
        }
        Ok((layout::load_any(c, &u, None)?, i))
    })
    .await?;
    let view = RotateView {
        shell: loaded,
        id: i.id.to_string(),
        name: i.name,
    };
    Ok(ok(view.render()?))
}

/// **Rotate secret**: a 303 to the integration's page, which shows the new
/// secret once; a reload there rotates nothing.
pub async fn view_rotate_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Sudo(user): Sudo,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let uid = user.user.id.clone();
    let id2 = id.clone();
    let (i, secret) = db::run(&state.pool, move |c| {
        integrations::rotate_secret(c, &id2, &uid)
    })
    .await?;
    let note = once::Note {
        event: "rotated".into(),
        integration: Some(id.to_string()),
        name: i.name,
        client_secret: Some(secret),
        internal_token: None,
        about: None,
    };
    Ok(see_other_with(
        &state,
        &user,
        format!("/developers/{id}"),
        note,
    ))
}

/// **Delete integration**'s confirmation: what will end.
pub async fn view_delete_get(
    state: web::Data<AppState>,
    Sudo(user): Sudo,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let u = user.clone();
    let view = db::run(&state.pool, move |c| {
        let i = integrations::owned(c, &id, &u.user.id)?;
        Ok(DeleteView {
            shell: layout::load_any(c, &u, i.workspace_id.as_ref())?,
            id: i.id.to_string(),
            internal: i.kind == IntegrationKind::Internal,
            reach: connections::reach_of(c, &i.id)?,
            name: i.name,
        })
    })
    .await?;
    Ok(ok(view.render()?))
}

/// **Delete integration**: its connections end at once, then it is gone.
pub async fn view_delete_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Sudo(user): Sudo,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let uid = user.user.id.clone();
    let deleted = db::run(&state.pool, move |c| {
        connections::delete_integration(c, &id, &uid)
    })
    .await?;
    let note = once::Note {
        event: "deleted".into(),
        integration: None,
        name: deleted.name,
        client_secret: None,
        internal_token: None,
        about: None,
    };
    Ok(see_other_with(&state, &user, "/developers".into(), note))
}

pub async fn view_token_post(
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
    Sudo(user): Sudo,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let uid = user.user.id.clone();
    let id2 = id.clone();
    let st = state.clone();
    let token = db::run(&state.pool, move |c| {
        connections::creator_token(c, &st.secret_box, &id2, &uid)
    })
    .await?;
    let shown = Shown {
        token: Some(token),
        ..Shown::default()
    };
    Ok(ok(integration_page(&state, &user, id, None, shown).await?))
}

/// The picker as posted: `page` once per ticked page.
#[derive(Deserialize)]
pub struct AccessFields {
    #[serde(default)]
    page: Vec<String>,
}

/// **Save access** on an internal integration's page: its connection's
/// pages become the ticked ones (`connections::developer_set_access`).
pub async fn view_access_post(
    state: web::Data<AppState>,
    form: CsrfForm<AccessFields>,
    user: CurrentUser,
    path: web::Path<IntegrationPath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().id;
    let (uid, id2, st) = (user.user.id.clone(), id.clone(), state.clone());
    let ticked = form.into_inner().page;
    let saved = db::run(&state.pool, move |c| {
        connections::developer_set_access(c, &st.secret_box, &id2, &uid, &ticked)
    })
    .await?;
    let note = once::Note {
        event: "access".into(),
        integration: Some(id.to_string()),
        name: access_saved(&saved),
        ..once::Note::default()
    };
    let to = format!("/developers/{id}#access");
    Ok(see_other_with(&state, &user, to, note))
}
