//! Invitations (issue 27 item 5): an owner's **Add members** with an
//! address that has no account makes a single-use, expiring link to a
//! sign-up page; using it creates the account, joins the workspace with
//! the role chosen and starts a session. Only the link token's SHA-256 is
//! stored (like every other secret), so the link is shown once, to the
//! owner who made it, and e-mailed through `smtp.*` when that is set.
//! Inviting the same address again makes a new link and retires the old
//! one, so a lost link is replaced, never recovered. Bounds: at most
//! `members.max_pending_invites` pending and `members.invites_per_hour`
//! made per workspace. Every step is an audit event in its transaction.

use std::time::Duration;

use crate::config::{MembersConfig, SmtpConfig, SmtpSecurity};
use crate::crypto;
use crate::db::models::{
    now, Invitation, InvitationId, InvitationState, Membership, Role, User, UserId, Workspace,
    WorkspaceId,
};
use crate::db::queries::{invitations as inv_q, sessions, users, workspaces};
use crate::db::{self, Conn, Pool};
use crate::domain::accounts::{self, PasswordPool};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::error::{AppError, AppResult};

/// Ended or expired invitations are forgotten after this long (their links
/// then read as unknown rather than used or expired).
const FORGET_AFTER_S: i64 = 90 * 24 * 3600;

/// The path of an invitation link; the page behind it is `pages::invite`.
pub fn link(issuer: &str, token: &str) -> String {
    format!("{issuer}/invite/{token}")
}

/// A new invitation and its link's token (shown once, never stored).
pub struct Made {
    pub invitation: Invitation,
    pub token: String,
    /// It replaced a pending invitation to the same address.
    pub renewed: bool,
}

/// Invites `email` (already normalized, without an account) to `ws` as
/// `role`, on behalf of owner `by`.
pub fn invite(
    c: &mut Conn,
    ws: &Workspace,
    by: &UserId,
    email: &str,
    role: Role,
    cfg: &MembersConfig,
) -> AppResult<Made> {
    let t = now();
    let token = crypto::random_token(crypto::SECRET_BYTES);
    db::write_tx(c, |c| {
        if inv_q::made_since(c, &ws.id, t - 3600)? >= i64::from(cfg.invites_per_hour) {
            return Err(AppError::Conflict(format!(
                "{} has made {} invitations in the last hour, the most it may. Try again later.",
                ws.name, cfg.invites_per_hour
            )));
        }
        inv_q::purge_old(c, &ws.id, t - FORGET_AFTER_S)?;
        let renewed = match inv_q::pending_for(c, &ws.id, email)? {
            Some(old) => inv_q::end(c, &old.id, InvitationState::Replaced, t, None)?,
            None => false,
        };
        if inv_q::live(c, &ws.id, t)?.len() as i64 >= i64::from(cfg.max_pending_invites) {
            return Err(AppError::Conflict(format!(
                "{} already has {} pending invitations. Revoke some before inviting more.",
                ws.name, cfg.max_pending_invites
            )));
        }
        let invitation = Invitation {
            id: InvitationId::new(),
            workspace_id: ws.id.clone(),
            email: email.to_string(),
            role,
            token_hash: crypto::sha256_hex(&token),
            invited_by: Some(by.clone()),
            created_at: t,
            expires_at: t + cfg.invite_ttl_s,
            state: InvitationState::Pending,
            ended_at: None,
            accepted_by: None,
        };
        inv_q::insert(c, &invitation)?;
        let detail = format!("{email} as {}", role.as_str());
        audit::record(
            c,
            Some(&ws.id),
            Actor::User(by),
            AuditAction::MemberInvited,
            &invitation.id,
            if renewed {
                format!("{detail}; new link")
            } else {
                detail
            },
        )?;
        Ok(Made {
            invitation,
            token: token.clone(),
            renewed,
        })
    })
}

/// A pending invitation as the Members page lists it.
pub struct Pending {
    pub invitation: Invitation,
    pub invited_by: String,
}

/// The pending, unexpired invitations of `ws`, newest first.
pub fn pending(c: &mut Conn, ws: &WorkspaceId) -> AppResult<Vec<Pending>> {
    let mut out = Vec::new();
    for invitation in inv_q::live(c, ws, now())? {
        let invited_by = match &invitation.invited_by {
            Some(id) => accounts::name_of(c, id)?,
            None => "Unknown".into(),
        };
        out.push(Pending {
            invitation,
            invited_by,
        });
    }
    Ok(out)
}

/// Revokes a pending invitation of `ws`: its link stops working at once.
pub fn revoke(
    c: &mut Conn,
    ws: &Workspace,
    by: &UserId,
    id: &InvitationId,
) -> AppResult<Invitation> {
    let inv = inv_q::by_id(c, &ws.id, id)?.ok_or(AppError::NotFound)?;
    db::write_tx(c, |c| {
        if !inv_q::end(c, &inv.id, InvitationState::Revoked, now(), None)? {
            return Err(AppError::Conflict(format!(
                "The invitation for {} is no longer pending.",
                inv.email
            )));
        }
        audit::record(
            c,
            Some(&ws.id),
            Actor::User(by),
            AuditAction::InvitationRevoked,
            &inv.id,
            inv.email.clone(),
        )
    })?;
    Ok(inv)
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Open,
    Used,
    Revoked,
    Replaced,
    Expired,
    /// Someone made an account with this address since (an operator, say):
    /// the link cannot make a second one.
    AccountExists,
}

/// An invitation link opened: the invitation, its workspace and who sent it.
pub struct Opened {
    pub invitation: Invitation,
    pub workspace: Workspace,
    pub invited_by: String,
    pub status: LinkStatus,
}

/// The invitation `token` names, or NotFound.
pub fn open(c: &mut Conn, token: &str) -> AppResult<Opened> {
    let invitation =
        inv_q::by_token_hash(c, &crypto::sha256_hex(token))?.ok_or(AppError::NotFound)?;
    let workspace = workspaces::by_id(c, &invitation.workspace_id)?.ok_or(AppError::NotFound)?;
    let invited_by = match &invitation.invited_by {
        Some(id) => accounts::name_of(c, id)?,
        None => "An owner".into(),
    };
    let status = match invitation.state {
        InvitationState::Accepted => LinkStatus::Used,
        InvitationState::Revoked => LinkStatus::Revoked,
        InvitationState::Replaced => LinkStatus::Replaced,
        InvitationState::Pending if invitation.expires_at <= now() => LinkStatus::Expired,
        InvitationState::Pending if users::by_email(c, &invitation.email)?.is_some() => {
            LinkStatus::AccountExists
        }
        InvitationState::Pending => LinkStatus::Open,
    };
    Ok(Opened {
        invitation,
        workspace,
        invited_by,
        status,
    })
}

/// The sign-up form as posted.
pub struct SignUp {
    pub token: String,
    pub name: String,
    pub password: String,
    /// The hash of a session the browser already had: it ends, as at login.
    pub replaces: Option<String>,
}

/// What using a link came to.
pub enum Accepted {
    /// The account exists, is in the workspace and signed in: the session
    /// cookie's value.
    Joined {
        user: User,
        workspace: WorkspaceId,
        cookie: String,
    },
    /// The link no longer works (or never did for this address).
    Ended(Box<Opened>),
    /// The form was not acceptable (a short password); said on the form.
    Refused(Box<Opened>, String),
}

fn check_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 || n.chars().any(|c| c.is_control()) {
        return Err("Enter your name (1 to 200 characters).".into());
    }
    Ok(n.to_string())
}

/// Uses an invitation link: checks the form, hashes the password on the
/// password threads (never while holding a database connection), then in
/// one transaction creates the account, joins the workspace, ends the
/// invitation (only if still pending: two uses of one link cannot both
/// win) and starts a session.
pub async fn accept(
    pool: &Pool,
    passwords: &PasswordPool,
    session_ttl_s: i64,
    form: SignUp,
) -> AppResult<Accepted> {
    let token = form.token.clone();
    let opened = db::run(pool, move |c| open(c, &token)).await?;
    if opened.status != LinkStatus::Open {
        return Ok(Accepted::Ended(Box::new(opened)));
    }
    let name = match check_name(&form.name) {
        Ok(n) => n,
        Err(why) => return Ok(Accepted::Refused(Box::new(opened), why)),
    };
    if let Err(e) = accounts::check_password(&form.password) {
        let why = format!("{}.", capitalised(&e.to_string()));
        return Ok(Accepted::Refused(Box::new(opened), why));
    }
    let password = form.password;
    let hash = passwords
        .run(move || crypto::hash_password(&password))
        .await
        .ok_or_else(|| AppError::internal("the password thread did not answer"))??;
    let SignUp {
        token, replaces, ..
    } = form;
    db::run(pool, move |c| {
        let t = now();
        let user = User {
            id: UserId::new(),
            email: opened.invitation.email.clone(),
            name,
            password_hash: hash,
            avatar_url: None,
            created_at: t,
        };
        let ws = opened.workspace.id.clone();
        let joined = db::write_tx(c, |c| {
            let inv = &opened.invitation;
            if users::by_email(c, &inv.email)?.is_some()
                || !inv_q::end(c, &inv.id, InvitationState::Accepted, t, None)?
            {
                return Ok(None);
            }
            users::insert(c, &user)?;
            inv_q::set_accepted_by(c, &inv.id, &user.id)?;
            workspaces::insert_membership(
                c,
                &Membership {
                    workspace_id: ws.clone(),
                    user_id: user.id.clone(),
                    role: inv.role,
                    joined_at: t,
                },
            )?;
            audit::record(
                c,
                Some(&ws),
                Actor::User(&user.id),
                AuditAction::InvitationAccepted,
                &user.id,
                format!("{} as {}", inv.email, inv.role.as_str()),
            )?;
            let (cookie, session) = accounts::new_session(&user, session_ttl_s);
            if let Some(old) = &replaces {
                sessions::delete(c, old)?;
            }
            sessions::insert(c, &session)?;
            Ok(Some(cookie))
        })?;
        Ok(match joined {
            Some(cookie) => Accepted::Joined {
                user,
                workspace: ws,
                cookie,
            },
            // Used (or an account made) between the check and now.
            None => Accepted::Ended(Box::new(open(c, &token)?)),
        })
    })
    .await
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What became of the e-mail of a new invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mailed {
    /// `smtp.host` is empty: the owner sends the link.
    Off,
    Sent,
    /// The mail server could not be reached or refused it; a reason a
    /// person reads (the server's own words are logged, not shown).
    Failed(String),
}

/// The invitation e-mail.
pub struct Mail<'a> {
    pub to: &'a str,
    pub workspace: &'a str,
    pub inviter: &'a str,
    pub role: Role,
    pub link: &'a str,
    pub expires_at: i64,
}

impl Mail<'_> {
    fn subject(&self) -> String {
        format!(
            "{} invited you to {} on pagegrant",
            self.inviter, self.workspace
        )
    }

    fn body(&self) -> String {
        let role = match self.role {
            Role::Owner => "an owner",
            Role::Member => "a member",
        };
        let until = time::OffsetDateTime::from_unix_timestamp(self.expires_at)
            .ok()
            .and_then(|d| {
                d.format(&time::macros::format_description!(
                    "[month repr:long] [day padding:none], [year] at [hour]:[minute] UTC"
                ))
                .ok()
            })
            .unwrap_or_default();
        format!(
            "{inviter} invited you to join {ws} on pagegrant as {role}.\r\n\r\n\
             Open this link to choose your name and password and join:\r\n\r\n\
             {link}\r\n\r\n\
             The link works once, until {until}. If you were not expecting this, ignore this e-mail.\r\n",
            inviter = self.inviter,
            ws = self.workspace,
            link = self.link,
        )
    }
}

/// Sends the invitation e-mail through `cfg` (which must be enabled), over
/// the async transport: waiting on the mail server holds no thread of the
/// blocking pool the database shares. `smtp.timeout_s` bounds each step.
pub async fn send(cfg: &SmtpConfig, mail: &Mail<'_>) -> Mailed {
    use lettre::message::{header::ContentType, Mailbox};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    if !cfg.enabled() {
        return Mailed::Off;
    }
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "invitation e-mail: {what}");
        Mailed::Failed(what.to_string())
    };
    let (Ok(from), Ok(to)) = (cfg.from.parse::<Mailbox>(), mail.to.parse::<Mailbox>()) else {
        return Mailed::Failed("the sender or the address could not be used".into());
    };
    let message = match Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body())
    {
        Ok(m) => m,
        Err(e) => return failed("the message could not be built", &e),
    };
    let host = cfg.host.trim();
    let builder = match cfg.security {
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
    };
    let mut builder = match builder {
        Ok(b) => b
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(cfg.timeout_s.max(1) as u64))),
        Err(e) => return failed("the mail server's TLS settings could not be used", &e),
    };
    if !cfg.username.is_empty() {
        builder = builder.credentials(Credentials::new(cfg.username.clone(), cfg.password.clone()));
    }
    match builder.build().send(message).await {
        Ok(_) => Mailed::Sent,
        Err(e) if e.is_permanent() => failed("the mail server refused it", &e),
        Err(e) => failed("the mail server could not be reached", &e),
    }
}
