//! Who belongs to a workspace, as its owners manage it (Settings & members →
//! **Members**) and operators do at the command line: list, add by email
//! (an existing user joins at once; an address without an account gets an
//! invitation, `domain::invitations`), change a role, remove. Removing someone ends the
//! connections they installed in that workspace at once (their tokens stop
//! working), and a workspace always keeps at least one owner. Every change is
//! an audit event in the same transaction.

use crate::config::Config;
use crate::db::models::{now, Membership, Role, User, UserId, Workspace};
use crate::db::queries::{connections as conn_q, users, workspaces};
use crate::db::{self, Conn, Pool};
use crate::domain::accounts::normalize_email;
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::connections;
use crate::domain::invitations::{self, Mail, Mailed};
use crate::error::{AppError, AppResult};

/// One person in the members list.
pub struct MemberRow {
    pub user: User,
    pub role: Role,
    pub joined_at: i64,
}

/// Everyone in `ws`, in the order they joined.
pub fn list(c: &mut Conn, ws: &Workspace) -> AppResult<Vec<MemberRow>> {
    Ok(workspaces::members(c, &ws.id)?
        .into_iter()
        .map(|(m, user)| MemberRow {
            user,
            role: m.role,
            joined_at: m.joined_at,
        })
        .collect())
}

fn last_owner(ws: &Workspace, user: &User) -> AppError {
    AppError::invalid(last_owner_text(ws, user))
}

fn last_owner_text(ws: &Workspace, user: &User) -> String {
    format!(
        "{} is the last owner of {}. Make someone else an owner first.",
        user.name, ws.name
    )
}

/// What removing `user` from `ws` would do, for the confirmation page: the
/// connections that would end (by integration name), or why they cannot be
/// removed (the last owner) — the same rule `remove` enforces.
pub struct RemovalPlan {
    pub user: User,
    pub connections: Vec<String>,
    pub refused: Option<String>,
}

pub fn plan_removal(c: &mut Conn, ws: &Workspace, user: &UserId) -> AppResult<RemovalPlan> {
    let (u, role) = member(c, ws, user)?;
    let refused = (role == Role::Owner && workspaces::count_owners(c, &ws.id)? <= 1)
        .then(|| last_owner_text(ws, &u));
    let connections = conn_q::active_in_workspace(c, &ws.id, Some(&u.id))?
        .into_iter()
        .map(|(_, integration)| integration.name)
        .collect();
    Ok(RemovalPlan {
        user: u,
        connections,
        refused,
    })
}

/// The member `user` of `ws`, or NotFound.
pub fn member(c: &mut Conn, ws: &Workspace, user: &UserId) -> AppResult<(User, Role)> {
    let m = workspaces::membership(c, &ws.id, user)?.ok_or(AppError::NotFound)?;
    let u = users::by_id(c, user)?.ok_or(AppError::NotFound)?;
    Ok((u, m.role))
}

/// What **Add members** did with an address.
pub enum Added {
    /// It had an account: they are in.
    Member(User),
    /// It had none: an invitation, its link (shown once) and its e-mail.
    Invited {
        email: String,
        link: String,
        renewed: bool,
        mailed: Mailed,
    },
}

/// **Add members**: an address with an account joins `ws` at once (as
/// `add`); one without gets an invitation, e-mailed when `smtp.*` is set
/// (after the invitation is committed: a mail server that fails loses
/// nothing, the owner copies the link instead).
pub async fn add_or_invite(
    pool: &Pool,
    cfg: &Config,
    ws: Workspace,
    by: User,
    email: String,
    role: Role,
) -> AppResult<Added> {
    let members_cfg = cfg.members.clone();
    let (w, inviter) = (ws.clone(), by.id.clone());
    let done = db::run(pool, move |c| {
        let normalized = normalize_email(&email)
            .map_err(|_| AppError::invalid("Enter an email address, like ada@example.com."))?;
        if users::by_email(c, &normalized)?.is_some() {
            return add(c, &w, Actor::User(&inviter), &normalized, role).map(Ok);
        }
        invitations::invite(c, &w, &inviter, &normalized, role, &members_cfg).map(Err)
    })
    .await?;
    let made = match done {
        Ok(user) => return Ok(Added::Member(user)),
        Err(made) => made,
    };
    let link = invitations::link(&cfg.server.issuer, &made.token);
    let mail = Mail {
        to: &made.invitation.email,
        workspace: &ws.name,
        inviter: &by.name,
        role,
        link: &link,
        expires_at: made.invitation.expires_at,
    };
    let mailed = invitations::send(&cfg.smtp, &mail).await;
    Ok(Added::Invited {
        email: made.invitation.email,
        link,
        renewed: made.renewed,
        mailed,
    })
}

/// Adds an existing user, found by email, with `role`.
pub fn add(
    c: &mut Conn,
    ws: &Workspace,
    actor: Actor<'_>,
    email: &str,
    role: Role,
) -> AppResult<User> {
    let email = normalize_email(email)
        .map_err(|_| AppError::invalid("Enter an email address, like ada@example.com."))?;
    let user = users::by_email(c, &email)?.ok_or_else(|| {
        AppError::invalid(format!(
            "No one has an account with {email}. They need to sign up first."
        ))
    })?;
    if workspaces::membership(c, &ws.id, &user.id)?.is_some() {
        return Err(AppError::Conflict(format!(
            "{} is already a member of {}.",
            user.email, ws.name
        )));
    }
    db::write_tx(c, |c| {
        workspaces::insert_membership(
            c,
            &Membership {
                workspace_id: ws.id.clone(),
                user_id: user.id.clone(),
                role,
                joined_at: now(),
            },
        )?;
        audit::record(
            c,
            Some(&ws.id),
            actor,
            AuditAction::MemberAdded,
            &user.id,
            format!("{} as {}", user.email, role.as_str()),
        )
    })?;
    Ok(user)
}

/// Gives `user` the role `role`; the last owner cannot be made a member.
/// Returns the user and whether anything changed.
pub fn set_role(
    c: &mut Conn,
    ws: &Workspace,
    actor: Actor<'_>,
    user: &UserId,
    role: Role,
) -> AppResult<(User, bool)> {
    let (u, current) = member(c, ws, user)?;
    if current == role {
        return Ok((u, false));
    }
    db::write_tx(c, |c| {
        if current == Role::Owner && workspaces::count_owners(c, &ws.id)? <= 1 {
            return Err(last_owner(ws, &u));
        }
        workspaces::set_role(c, &ws.id, &u.id, role)?;
        audit::record(
            c,
            Some(&ws.id),
            actor,
            AuditAction::MemberRoleChanged,
            &u.id,
            format!("{}: {} → {}", u.email, current.as_str(), role.as_str()),
        )
    })?;
    Ok((u, true))
}

/// What a removal did.
pub struct Removed {
    pub user: User,
    /// How many of their connections ended.
    pub connections: usize,
}

/// Removes `user` from `ws`: the connections they installed there end at
/// once (tokens revoked), then the membership goes. The last owner stays.
pub fn remove(
    c: &mut Conn,
    ws: &Workspace,
    actor: Actor<'_>,
    by: Option<&UserId>,
    user: &UserId,
) -> AppResult<Removed> {
    let (u, role) = member(c, ws, user)?;
    let ended = db::write_tx(c, |c| {
        if role == Role::Owner && workspaces::count_owners(c, &ws.id)? <= 1 {
            return Err(last_owner(ws, &u));
        }
        let mut ended = 0;
        for (connection, integration) in conn_q::active_in_workspace(c, &ws.id, Some(&u.id))? {
            let detail = format!("{} ({} left the workspace)", integration.name, u.email);
            if connections::end(c, &connection, actor, by, detail)? {
                ended += 1;
            }
        }
        workspaces::delete_membership(c, &ws.id, &u.id)?;
        audit::record(
            c,
            Some(&ws.id),
            actor,
            AuditAction::MemberRemoved,
            &u.id,
            format!("{}; {ended} connection(s) ended", u.email),
        )?;
        Ok(ended)
    })?;
    Ok(Removed {
        user: u,
        connections: ended,
    })
}
