//! The install policy (DESIGN §3): who may install an integration in a
//! workspace. Owners always may. In an Enterprise workspace set to
//! "Only from approved list", a member may install an approved integration, or
//! a first-party one while "Auto-approve connections built by pagegrant" is on.
//! A dynamic client an owner blocked in the workspace (S67) is refused to
//! everyone, owners included, until it is unblocked.
//! The consent page, "+ Add connection" and the page menu all ask here.

use crate::db::models::{InstallPolicy, Integration, Plan, Role, Workspace};
use crate::db::queries::{blocked_clients, connections};
use crate::db::Conn;
use crate::error::AppResult;

/// Why an install is refused, in words for the person refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked(pub String);

/// An Enterprise workspace set to "Only from approved list".
pub fn restricted(ws: &Workspace) -> bool {
    ws.plan == Plan::Enterprise && ws.install_policy == InstallPolicy::ApprovedOnly
}

/// Why `role` may not install `integration` in `ws`, or `None` when they
/// may: an answer the consent page and the add-connection list show, and
/// which the writes that install turn into `AppError::Forbidden`.
pub fn blocked(
    conn: &mut Conn,
    ws: &Workspace,
    role: Role,
    integration: &Integration,
) -> AppResult<Option<Blocked>> {
    if integration.dynamic && blocked_clients::is_blocked(conn, &ws.id, &integration.id)? {
        return Ok(Some(Blocked(format!(
            "An owner of {} blocked {}: it registered itself, and it may not connect to this \
             workspace. Ask a workspace owner to unblock it in Settings → Connections.",
            ws.name, integration.name
        ))));
    }
    if role == Role::Owner
        || !restricted(ws)
        || connections::is_approved(conn, &ws.id, &integration.id)?
        || (integration.first_party && ws.auto_approve_first_party)
    {
        return Ok(None);
    }
    Ok(Some(Blocked(format!(
        "The owners of {} only allow connections from an approved list, and {} is not on it. \
         Ask a workspace owner to approve it.",
        ws.name, integration.name
    ))))
}

/// Creating an internal integration installs it in its workspace, so the
/// same policy applies: with "Only from approved list", only owners may.
pub fn can_create_internal(ws: &Workspace, role: Role) -> Result<(), Blocked> {
    if role == Role::Owner || !restricted(ws) {
        return Ok(());
    }
    Err(Blocked(format!(
        "The owners of {} only allow connections from an approved list, so only an owner \
         can create an internal integration there.",
        ws.name
    )))
}
