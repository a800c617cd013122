//! User accounts: creation, passwords, and the login check with throttling.
//! Shared by the CLI verbs and the login page.

use crate::config::SecurityConfig;
use crate::crypto;
use crate::db::models::{now, Session, User, UserId};
use crate::db::queries::{sessions, throttle, users};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD_LEN: usize = 8;

/// Lower-cases and checks the shape of an email address.
pub fn normalize_email(email: &str) -> AppResult<String> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 320
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if !valid {
        return Err(AppError::invalid(format!(
            "{:?} is not an email address",
            email.trim()
        )));
    }
    Ok(e)
}

pub fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(format!(
            "passwords need at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid("passwords may be at most 1024 bytes"));
    }
    Ok(())
}

/// A password for users created without one: 128 bits, easy to copy.
pub fn generate_password() -> String {
    crypto::random_token(16)
}

pub fn create_user(conn: &mut Conn, email: &str, name: &str, password: &str) -> AppResult<User> {
    let email = normalize_email(email)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("a name needs 1 to 200 characters"));
    }
    check_password(password)?;
    if users::by_email(conn, &email)?.is_some() {
        return Err(AppError::Conflict(format!(
            "a user with email {email} already exists"
        )));
    }
    let user = User {
        id: UserId::new(),
        email: email.clone(),
        name: name.to_string(),
        password_hash: crypto::hash_password(password)?,
        avatar_url: None,
        created_at: now(),
    };
    users::insert(conn, &user).map_err(|e| {
        let e = AppError::from(e);
        if db::is_unique_violation(&e) {
            AppError::Conflict(format!("a user with email {email} already exists"))
        } else {
            e
        }
    })?;
    Ok(user)
}

/// Finds a user by email or id, as CLI flags name them.
pub fn find_user(conn: &mut Conn, email_or_id: &str) -> AppResult<User> {
    let found = if email_or_id.contains('@') {
        users::by_email(conn, email_or_id.trim())?
    } else {
        match UserId::parse(email_or_id) {
            Some(id) => users::by_id(conn, &id)?,
            None => None,
        }
    };
    found.ok_or_else(|| AppError::invalid(format!("no user {email_or_id:?}")))
}

pub fn set_password(conn: &mut Conn, user: &User, password: &str) -> AppResult<()> {
    check_password(password)?;
    let hash = crypto::hash_password(password)?;
    db::write_tx(conn, |conn| {
        users::set_password_hash(conn, &user.id, &hash)?;
        // A new password ends every existing session of the account, and
        // lifts the account's login throttle (not the per-address one), so
        // an operator can unlock a locked-out account at once.
        crate::db::queries::sessions::delete_for_user(conn, &user.id)?;
        throttle::clear(conn, &account_key(&user.email))?;
        Ok(())
    })
}

/// What a login attempt came to.
pub enum LoginOutcome {
    /// Logged in: the user and the new session's cookie value.
    Ok(User, String),
    /// Wrong password and unknown user alike.
    BadCredentials,
}

fn account_key(email: &str) -> String {
    format!("login:acct:{email}")
}
fn ip_key(ip: &str) -> String {
    format!("login:ip:{ip}")
}

/// Refuses with `Throttled` when the account or the address has used up its
/// failures in the current window.
fn check_login_throttle(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    email: &str,
    ip: &str,
) -> AppResult<()> {
    let now = now();
    let email = email.trim().to_lowercase();
    for (key, limit) in [
        (account_key(&email), cfg.login_max_failures_per_account),
        (ip_key(ip), cfg.login_max_failures_per_ip),
    ] {
        if let Some((failures, start)) = throttle::current(conn, &key, now, cfg.login_window_s)? {
            if failures as i64 >= limit as i64 {
                return Err(AppError::Throttled(
                    (start + cfg.login_window_s - now).max(1),
                ));
            }
        }
    }
    Ok(())
}

/// Verifies a password (argon2 runs on a dummy hash for unknown users, so both
/// failures cost the same) and keeps the failure counters.
fn check_credentials(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    email: &str,
    password: &str,
    ip: &str,
) -> AppResult<Option<User>> {
    let email = email.trim().to_lowercase();
    let user = if email.is_empty() {
        None
    } else {
        users::by_email(conn, &email)?
    };
    let ok = crypto::verify_password(user.as_ref().map(|u| u.password_hash.as_str()), password);
    match (ok, user) {
        (true, Some(user)) => {
            throttle::clear(conn, &account_key(&email))?;
            Ok(Some(user))
        }
        _ => {
            let now = now();
            throttle::record_failure(conn, &account_key(&email), now, cfg.login_window_s)?;
            throttle::record_failure(conn, &ip_key(ip), now, cfg.login_window_s)?;
            Ok(None)
        }
    }
}

/// A login as posted.
pub struct LoginAttempt {
    pub email: String,
    pub password: String,
    pub ip: String,
    /// The hash of the session id the browser already had, if any: it is
    /// deleted, so an id planted before login is worthless after.
    pub replaces: Option<String>,
}

/// Checks the throttle and the password, and on success starts a session
/// (a fresh id, the old one gone). The outcome carries the cookie value.
pub fn sign_in(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    attempt: LoginAttempt,
) -> AppResult<LoginOutcome> {
    check_login_throttle(conn, cfg, &attempt.email, &attempt.ip)?;
    let Some(user) = check_credentials(conn, cfg, &attempt.email, &attempt.password, &attempt.ip)?
    else {
        return Ok(LoginOutcome::BadCredentials);
    };
    let (value, session) = new_session(&user, cfg.session_ttl_s);
    db::write_tx(conn, |c| {
        if let Some(old) = &attempt.replaces {
            sessions::delete(c, old)?;
        }
        sessions::delete_expired(c, now())?;
        sessions::insert(c, &session)?;
        Ok(())
    })?;
    Ok(LoginOutcome::Ok(user, value))
}

/// A new session row and the cookie value that names it.
pub fn new_session(user: &User, ttl_s: i64) -> (String, Session) {
    let value = crypto::new_session_id();
    let t = now();
    let session = Session {
        id_hash: crypto::sha256_hex(&value),
        user_id: user.id.clone(),
        csrf_secret: crypto::random_token(crypto::SECRET_BYTES),
        created_at: t,
        expires_at: t + ttl_s,
    };
    (value, session)
}

/// Ends a session (logout): the row goes, so the cookie is worthless.
pub fn sign_out(conn: &mut Conn, session_hash: &str) -> AppResult<()> {
    sessions::delete(conn, session_hash)?;
    Ok(())
}

/// A user's name for lists ("Unknown" once they are gone).
pub fn name_of(conn: &mut Conn, id: &UserId) -> AppResult<String> {
    Ok(users::by_id(conn, id)?
        .map(|u| u.name)
        .unwrap_or_else(|| "Unknown".into()))
}
