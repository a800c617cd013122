//! The Enterprise block of Settings & members → Connections (owners of
//! Enterprise workspaces only): **Restrict members from installing
//! connections**, **Auto-approve connections built by pagegrant**, and
//! **Approved connections** with **+ Add approved connection** and each
//! row's **Filter by user**, **Revoke access**, **Disconnect all users**
//! (behind a confirmation page) and **Remove from approved list**; and
//! members' **Requests to approve**, each with **Approve** and **Decline**.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::{InstallPolicy, IntegrationId, Plan, UserId};
use crate::db::{self, Conn};
use crate::domain::enterprise::{self, EnterpriseAction, Overview};
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::{EnterpriseOwner, Member, Sudo};
use crate::http::form::CsrfForm;
use crate::http::layout::{self, Shell};
use crate::http::{html, once};
use crate::state::AppState;

/// The block as Settings shows it.
pub type EnterpriseView = Overview;

/// The block, for an owner of an Enterprise workspace; `None` for anyone
/// or anything else.
pub fn block(c: &mut Conn, m: &Member, filter_user: Option<UserId>) -> AppResult<Option<Overview>> {
    if !m.is_owner() || m.workspace.plan != Plan::Enterprise {
        return Ok(None);
    }
    Ok(Some(enterprise::overview(
        c,
        &m.workspace,
        filter_user.as_ref(),
    )?))
}

/// Which button of the block was pressed.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum Button {
    Policy,
    Approve,
    Unapprove,
    DisconnectAll,
    ApproveRequest,
    DeclineRequest,
    TwoStep,
}

/// The block's forms: the button (`action`) and the fields it reads.
/// (A flat struct rather than an internally tagged enum: form decoders
/// hand serde every value as a sequence, which tagged enums refuse.)
#[derive(Deserialize)]
pub struct EnterpriseFields {
    action: Button,
    policy: Option<String>,
    auto_approve: Option<String>,
    integration_id: Option<String>,
    /// The member whose request is answered.
    requested_by: Option<String>,
    /// **Require two-step verification** ticked.
    require_two_step: Option<String>,
}

impl EnterpriseFields {
    fn action(self) -> Result<EnterpriseAction, HtmlError> {
        let pick = || {
            self.integration_id
                .as_deref()
                .and_then(IntegrationId::parse)
                .ok_or_else(|| HtmlError::BadRequest("Choose a connection.".into()))
        };
        Ok(match self.action {
            Button::Policy => EnterpriseAction::SetPolicy {
                policy: self
                    .policy
                    .as_deref()
                    .and_then(InstallPolicy::parse)
                    .ok_or_else(|| {
                        HtmlError::BadRequest(
                            "Choose No restrictions or Only from approved list.".into(),
                        )
                    })?,
                auto_approve_first_party: self.auto_approve.is_some(),
            },
            Button::TwoStep => EnterpriseAction::RequireTwoStep(self.require_two_step.is_some()),
            Button::Approve => EnterpriseAction::Approve(pick()?),
            Button::Unapprove => EnterpriseAction::Unapprove(pick()?),
            Button::DisconnectAll => EnterpriseAction::DisconnectAll(pick()?),
            Button::ApproveRequest | Button::DeclineRequest => EnterpriseAction::AnswerRequest {
                integration: pick()?,
                requester: self
                    .requested_by
                    .as_deref()
                    .and_then(UserId::parse)
                    .ok_or_else(|| HtmlError::BadRequest("Choose a request.".into()))?,
                approve: matches!(self.action, Button::ApproveRequest),
            },
        })
    }
}

/// What Settings says after `action` (a one-time note naming the
/// integration by id) and the part of the page it returns to: the policy
/// form, or the approved list.
fn done(action: &EnterpriseAction) -> (once::Note, &'static str) {
    let (what, about, anchor) = match action {
        EnterpriseAction::SetPolicy { .. } => ("policy", None, "#install-policy"),
        EnterpriseAction::RequireTwoStep(on) => (
            if *on { "two_step_on" } else { "two_step_off" },
            None,
            "#require-two-step",
        ),
        EnterpriseAction::Approve(i) => ("approve", Some(i.to_string()), "#approved-connections"),
        EnterpriseAction::Unapprove(i) => {
            ("unapprove", Some(i.to_string()), "#approved-connections")
        }
        EnterpriseAction::DisconnectAll(i) => (
            "disconnect_all",
            Some(i.to_string()),
            "#approved-connections",
        ),
        EnterpriseAction::AnswerRequest {
            integration,
            approve,
            ..
        } => (
            if *approve {
                "request_approved"
            } else {
                "request_declined"
            },
            Some(integration.to_string()),
            "#approval-requests-title",
        ),
    };
    let note = once::Note {
        event: what.into(),
        about,
        ..once::Note::default()
    };
    (note, anchor)
}

/// The flash after an Enterprise action, naming the integration.
pub fn flash(done: Option<&str>, integration: Option<String>) -> Option<String> {
    match (done, integration) {
        (Some("policy"), _) => Some("Saved who may install connections".into()),
        (Some("two_step_on"), _) => Some(
            "Two-step verification is required: members without it are asked to turn it on".into(),
        ),
        (Some("two_step_off"), _) => Some("Two-step verification is no longer required".into()),
        (Some("approve"), Some(n)) => Some(format!("Approved {n}")),
        (Some("unapprove"), Some(n)) => Some(format!("Removed {n} from the approved list")),
        (Some("disconnect_all"), Some(n)) => Some(format!("Disconnected {n} for all users")),
        (Some("request_approved"), Some(n)) => Some(format!(
            "Approved {n}: members may now install it, and whoever asked sees the answer"
        )),
        (Some("request_declined"), Some(n)) => Some(format!(
            "Declined the request for {n}; the member sees the answer"
        )),
        _ => None,
    }
}

pub async fn view_enterprise_post(
    state: web::Data<AppState>,
    form: CsrfForm<EnterpriseFields>,
    EnterpriseOwner(m): EnterpriseOwner,
    _sudo: Sudo,
) -> Result<HttpResponse, HtmlError> {
    let action = form.into_inner().action()?;
    let (note, anchor) = done(&action);
    let ws = m.workspace.id.clone();
    let (session, uid) = (m.user.session.clone(), m.user.user.id.clone());
    db::run(&state.pool, move |c| {
        enterprise::apply(c, &ws, &uid, &action)
    })
    .await?;
    let ws = &m.workspace.id;
    Ok(once::see_other_noting(
        &state.secret_box,
        &session,
        state.config.issuer_is_https(),
        format!("/w/{ws}/settings/connections{anchor}"),
        note,
        &format!("/w/{ws}"),
    ))
}

#[derive(Template)]
#[template(path = "workspace/confirm_disconnect_all.html")]
pub struct ConfirmAllView {
    pub shell: Shell,
    pub integration_id: String,
    pub name: String,
    pub installers: Vec<String>,
}

#[derive(Deserialize)]
pub struct DisconnectAllQuery {
    integration_id: Option<String>,
}

/// The confirmation step before **Disconnect all users**.
pub async fn view_disconnect_all_get(
    state: web::Data<AppState>,
    EnterpriseOwner(m): EnterpriseOwner,
    q: web::Query<DisconnectAllQuery>,
) -> Result<HttpResponse, HtmlError> {
    let id = q
        .integration_id
        .as_deref()
        .and_then(IntegrationId::parse)
        .ok_or(HtmlError::NotFound)?;
    let view = db::run(&state.pool, move |c| {
        let (name, installers) = enterprise::installers_of(c, &m.workspace.id, &id)?;
        Ok(ConfirmAllView {
            shell: layout::load(c, &m, None)?.shell,
            integration_id: id.to_string(),
            name,
            installers,
        })
    })
    .await?;
    Ok(html(view.render()?))
}
