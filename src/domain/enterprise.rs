//! The Enterprise settings of a workspace (DESIGN §3): who may install
//! connections (**Restrict members from installing connections**,
//! **Auto-approve connections built by pagegrant**) and the approved list,
//! with who installed each approved integration. Owners of Enterprise
//! workspaces only; the `EnterpriseOwner` extractor checks that before any
//! of this runs.

use crate::db::models::{
    now, InstallPolicy, IntegrationId, IntegrationKind, UserId, Workspace, WorkspaceId,
};
use crate::db::queries::{connections, users};
use crate::db::{self, Conn};
use crate::domain::approval_requests::{self, Pending};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::connections::disconnect_all;
use crate::error::{AppError, AppResult};

pub struct Installer {
    pub user_id: UserId,
    pub name: String,
    pub connection_id: crate::db::models::ConnectionId,
}

pub struct Approved {
    pub integration_id: IntegrationId,
    pub name: String,
    pub installers: Vec<Installer>,
}

pub struct Overview {
    pub restricted: bool,
    pub auto_approve: bool,
    pub approved: Vec<Approved>,
    /// Installed here, not yet approved: what **+ Add approved connection** offers.
    pub candidates: Vec<(IntegrationId, String)>,
    pub filter_user: Option<UserId>,
    /// The filtered user's name, to say whose connections are shown.
    pub filter_user_name: Option<String>,
    /// Members' pending requests to approve an integration (issue 27 item 3).
    pub requests: Vec<Pending>,
    /// **Require two-step verification** is on (issue 28 item 3).
    pub two_step_required: bool,
}

/// The approved list with its installers (only `filter_user`'s, if given),
/// and the integrations that could be approved.
pub fn overview(c: &mut Conn, w: &Workspace, filter_user: Option<&UserId>) -> AppResult<Overview> {
    let active = connections::active_in_workspace(c, &w.id, None)?;
    let approved_list = connections::approved(c, &w.id)?;
    let mut approved = Vec::new();
    for i in &approved_list {
        let mut installers = Vec::new();
        for (conn_row, _) in active.iter().filter(|(x, _)| x.integration_id == i.id) {
            if filter_user.is_some_and(|f| f != &conn_row.installed_by) {
                continue;
            }
            installers.push(Installer {
                user_id: conn_row.installed_by.clone(),
                name: users::by_id(c, &conn_row.installed_by)?
                    .map(|u| u.name)
                    .unwrap_or_default(),
                connection_id: conn_row.id.clone(),
            });
        }
        if filter_user.is_some() && installers.is_empty() {
            continue;
        }
        approved.push(Approved {
            integration_id: i.id.clone(),
            name: i.name.clone(),
            installers,
        });
    }
    let mut candidates: Vec<(IntegrationId, String)> = Vec::new();
    // Only public integrations are approved: an internal one is made by an
    // owner, or under the policy, in this workspace already.
    for (_, i) in active
        .iter()
        .filter(|(_, i)| i.kind == IntegrationKind::Public)
    {
        if !approved_list.iter().any(|a| a.id == i.id)
            && !candidates.iter().any(|(id, _)| id == &i.id)
        {
            candidates.push((i.id.clone(), i.name.clone()));
        }
    }
    Ok(Overview {
        two_step_required: crate::domain::two_step::required(c, &w.id)?,
        restricted: w.install_policy == InstallPolicy::ApprovedOnly,
        auto_approve: w.auto_approve_first_party,
        approved,
        candidates,
        filter_user_name: match filter_user {
            Some(u) => Some(crate::domain::accounts::name_of(c, u)?),
            None => None,
        },
        filter_user: filter_user.cloned(),
        requests: approval_requests::pending(c, w)?,
    })
}

/// What an owner can do in the Enterprise block.
#[derive(Debug, Clone)]
pub enum EnterpriseAction {
    SetPolicy {
        policy: InstallPolicy,
        auto_approve_first_party: bool,
    },
    Approve(IntegrationId),
    Unapprove(IntegrationId),
    DisconnectAll(IntegrationId),
    /// Answers a member's request (issue 27 item 3).
    AnswerRequest {
        integration: IntegrationId,
        requester: UserId,
        approve: bool,
    },
    /// **Require two-step verification** on or off (issue 28 item 3).
    RequireTwoStep(bool),
}

/// Does it, with its audit event, in one transaction.
pub fn apply(
    c: &mut Conn,
    ws: &WorkspaceId,
    owner: &UserId,
    action: &EnterpriseAction,
) -> AppResult<()> {
    let by = Actor::User(owner);
    db::write_tx(c, |c| match action {
        EnterpriseAction::SetPolicy {
            policy,
            auto_approve_first_party: auto,
        } => {
            crate::db::queries::workspaces::set_install_policy(c, ws, *policy, *auto)?;
            audit::record(
                c,
                Some(ws),
                by,
                AuditAction::PolicyChanged,
                ws,
                format!("install policy {policy}, auto-approve first-party {auto}"),
            )
        }
        EnterpriseAction::Approve(id) => {
            // Only integrations already installed here can be approved.
            if !connections::active_in_workspace(c, ws, None)?
                .iter()
                .any(|(_, i)| &i.id == id)
            {
                return Err(AppError::invalid(
                    "Only connections already installed in this workspace can be approved.",
                ));
            }
            connections::approve(c, ws, id, owner, now())?;
            approval_requests::approved_elsewhere(c, ws, owner, id)?;
            audit::record(
                c,
                Some(ws),
                by,
                AuditAction::IntegrationApproved,
                id,
                String::new(),
            )
        }
        EnterpriseAction::Unapprove(id) => {
            connections::unapprove(c, ws, id)?;
            audit::record(
                c,
                Some(ws),
                by,
                AuditAction::IntegrationUnapproved,
                id,
                String::new(),
            )
        }
        EnterpriseAction::DisconnectAll(id) => disconnect_all(c, ws, owner, id),
        EnterpriseAction::AnswerRequest {
            integration,
            requester,
            approve,
        } => approval_requests::answer(c, ws, owner, integration, requester, *approve),
        EnterpriseAction::RequireTwoStep(on) => {
            crate::domain::two_step::set_required(c, ws, owner, *on)
        }
    })
}

/// Who would be disconnected by **Disconnect all users**: the integration's
/// name and each installer's name (NotFound when nobody has it installed).
pub fn installers_of(
    c: &mut Conn,
    ws: &WorkspaceId,
    integration: &IntegrationId,
) -> AppResult<(String, Vec<String>)> {
    let active: Vec<_> = connections::active_in_workspace(c, ws, None)?
        .into_iter()
        .filter(|(_, i)| &i.id == integration)
        .collect();
    let Some(name) = active.first().map(|(_, i)| i.name.clone()) else {
        return Err(AppError::NotFound);
    };
    let mut installers = Vec::new();
    for (conn_row, _) in &active {
        installers.push(
            users::by_id(c, &conn_row.installed_by)?
                .map(|u| u.name)
                .unwrap_or_default(),
        );
    }
    Ok((name, installers))
}
