//! User accounts: creation, passwords, and the login check with throttling.
//! Shared by the CLI verbs and the login page.

use std::sync::OnceLock;

use crate::config::SecurityConfig;
use crate::crypto;
use crate::db::models::{now, Session, User, UserId};
use crate::db::queries::{sessions, throttle, used_notes, users};

use crate::db::{self, Conn, Pool};
use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD_LEN: usize = 8;

/// Lower-cases and checks the shape of an email address.
pub fn normalize_email(email: &str) -> AppResult<String> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= MAX_EMAIL_LEN
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
        // A password set by an operator is one to sign in with.
        users::set_password_off(conn, &user.id, None)?;
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
    /// A right password for an account with two-step verification: no
    /// session yet, the cookie value of the pending login instead.
    SecondStep(String),
    /// The account turned password sign-in off: refused whatever the
    /// password was (right or wrong alike, counted as a failure), so the
    /// answer says nothing about the password.
    PasskeysOnly,
}

/// The login throttle's counter for one account (`throttle`), shared by
/// every way of signing in.
pub fn account_key(email: &str) -> String {
    format!("login:acct:{email}")
}
/// The login throttle's counter for one client address.
pub fn ip_key(ip: &str) -> String {
    format!("login:ip:{ip}")
}

/// RFC 5321's limit on a forward path, less its angle brackets: no account
/// has a longer address, so a longer one is refused before it is counted
/// (it would only grow `auth_failures` with a key of any length).
pub const MAX_EMAIL_LEN: usize = 254;

/// A login attempt that passed the throttle: counted as a failure in
/// advance, with the user it names (if any).
pub struct Counted {
    email: String,
    user: Option<User>,
    /// The unit taken from the address's counter, and its window.
    ip_unit: (String, i64),
    /// A counter's window opened with this attempt: if it fails, it purges.
    opened: bool,
}

/// Takes one unit from the address's counter, then from the account's, in
/// one atomic increment each (`throttle::take`): however many attempts run
/// in parallel, no more than the limit reach the password check. Past a
/// limit the attempt is refused with `Throttled` and its units are given
/// back. `None` for an address too long to belong to anyone.
pub fn count_attempt(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    email: &str,
    ip: &str,
) -> AppResult<Option<Counted>> {
    let email = email.trim().to_lowercase();
    if email.len() > MAX_EMAIL_LEN {
        return Ok(None);
    }
    let t = now();
    let window_s = cfg.login_window_s;
    let mut taken: Vec<(String, i64)> = Vec::with_capacity(2);
    let mut opened = false;
    // The address first: its own budget, so a throttled address spends
    // nothing of the account's.
    for (key, limit) in [
        (ip_key(ip), cfg.login_max_failures_per_ip),
        (account_key(&email), cfg.login_max_failures_per_account),
    ] {
        let got = throttle::take(conn, &key, t, window_s)?;
        taken.push((key, got.window_start));
        opened |= got.failures == 1;
        if i64::from(got.failures) > i64::from(limit) {
            for (key, start) in &taken {
                throttle::give_back(conn, key, *start)?;
            }
            return Err(AppError::Throttled(
                (got.window_start + window_s - t).max(1),
            ));
        }
    }
    let user = if email.is_empty() {
        None
    } else {
        users::by_email(conn, &email)?
    };
    Ok(Some(Counted {
        email,
        user,
        ip_unit: taken.swap_remove(0),
        opened,
    }))
}

/// Verifies a password against the counted attempt's user, or against a
/// dummy hash for unknown users so both failures cost the same. Pure CPU
/// (argon2), run on the password pool without a database connection: at
/// most one check per core at once, so a flood of logins cannot take
/// argon2's memory once per thread, and at a lower CPU priority, so it
/// cannot starve the API either. A check that cannot run is a failure.
pub async fn password_matches(passwords: &PasswordPool, counted: &Counted, password: &str) -> bool {
    let hash = counted.user.as_ref().map(|u| u.password_hash.clone());
    let password = password.to_string();
    passwords
        .run(move || crypto::verify_password(hash.as_deref(), &password))
        .await
        .unwrap_or(false)
}

/// Live sessions one person keeps (browsers, devices); a new login beyond
/// them ends the oldest.
pub const SESSIONS_PER_USER: i64 = 20;

/// Ends an attempt: a right password clears the account's counter, gives
/// the address its unit back and starts a session (a fresh id, the old one
/// gone); a wrong one leaves the units taken as the failure's record.
pub fn finish_attempt(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    counted: Counted,
    matched: bool,
    replaces: Option<String>,
) -> AppResult<LoginOutcome> {
    finish(conn, cfg, counted, matched, replaces, true)
}

/// The second step's end: the code was the proof, no further step.
pub fn finish_second_step(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    counted: Counted,
    matched: bool,
    replaces: Option<String>,
) -> AppResult<LoginOutcome> {
    finish(conn, cfg, counted, matched, replaces, false)
}

fn finish(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    counted: Counted,
    matched: bool,
    replaces: Option<String>,
    second_step: bool,
) -> AppResult<LoginOutcome> {
    if second_step && password_refused(conn, cfg, &counted)? {
        return Ok(LoginOutcome::PasskeysOnly);
    }
    let user = match (matched, counted.user) {
        (true, Some(user)) => user,
        _ => {
            // The units stay as the failure's record; a failure that opened
            // a window purges the closed ones, so only failures pay for it.
            if counted.opened {
                throttle::purge_closed(conn, now(), cfg.longest_window_s())?;
            }
            return Ok(LoginOutcome::BadCredentials);
        }
    };
    if second_step && crate::db::queries::two_step::enabled(conn, &user.id)? {
        let pending = begin_pending(conn, &user.id, replaces, counted.ip_unit)?;
        return Ok(LoginOutcome::SecondStep(pending));
    }
    throttle::clear(conn, &account_key(&counted.email))?;
    throttle::give_back(conn, &counted.ip_unit.0, counted.ip_unit.1)?;
    let value = open_session(conn, cfg, &user, replaces)?;
    Ok(LoginOutcome::Ok(user, value))
}

/// Starts a session for a person who proved who they are (a password or a
/// passkey): a fresh id, the one the browser had gone, the oldest beyond
/// the cap ended. Answers the cookie value.
pub fn open_session(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    user: &User,
    replaces: Option<String>,
) -> AppResult<String> {
    let (value, session) = new_session(user, cfg.session_ttl_s);
    db::write_tx(conn, |c| {
        if let Some(old) = &replaces {
            sessions::delete(c, old)?;
        }
        sessions::delete_expired(c, now())?;
        sessions::insert(c, &session)?;
        // Logins are throttled per address and account, not counted per
        // person: the oldest sessions end beyond the cap (S77).
        sessions::trim_for_user(c, &user.id, &session.id_hash, SESSIONS_PER_USER - 1)?;
        Ok(())
    })?;
    Ok(value)
}

/// How long a right password stays good for its second step.
pub const PENDING_LOGIN_TTL_S: i64 = 300;

/// Starts a pending login after a right password: the cookie value that
/// names it. The throttle units the password took stay taken until the
/// second step succeeds, so a known password buys no extra code guesses.
pub fn begin_pending(
    c: &mut Conn,
    user: &UserId,
    replaces: Option<String>,
    ip_unit: (String, i64),
) -> AppResult<String> {
    let value = crypto::new_session_id();
    crate::db::queries::two_step::insert_pending(
        c,
        &crate::db::models::PendingLogin {
            id_hash: crypto::sha256_hex(&value),
            user_id: user.clone(),
            replaces,
            ip_key: ip_unit.0,
            ip_window: ip_unit.1,
            expires_at: now() + PENDING_LOGIN_TTL_S,
        },
    )?;
    Ok(value)
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

/// Counts the attempt behind the throttle, checks the password, and on
/// success starts a session; the outcome carries the cookie value. Three
/// steps, so argon2 never runs while a pooled connection is held: a burst of
/// failed logins cannot starve the pool the API and health checks use.
pub async fn sign_in(
    pool: &Pool,
    passwords: &PasswordPool,
    cfg: &SecurityConfig,
    attempt: LoginAttempt,
) -> AppResult<LoginOutcome> {
    let LoginAttempt {
        email,
        password,
        ip,
        replaces,
    } = attempt;
    let sec = cfg.clone();
    let Some(counted) = db::run(pool, move |c| count_attempt(c, &sec, &email, &ip)).await? else {
        return Ok(LoginOutcome::BadCredentials);
    };
    let matched = password_matches(passwords, &counted, &password).await;
    let sec = cfg.clone();
    db::run(pool, move |c| {
        finish_attempt(c, &sec, counted, matched, replaces)
    })
    .await
}

/// The password threads: one per core the process may run on, started on
/// first use, each at nice 10. Under a flood of wrong passwords the
/// scheduler then gives the API's threads (nice 0) about ten times the CPU
/// share of a password check, instead of an equal share; with nothing else
/// to do, a check still runs at full speed. A rayon pool: a caller awaits
/// its check's result on a oneshot channel, so no async or blocking thread
/// waits for it. Held in `AppState`.
#[derive(Default)]
pub struct PasswordPool(OnceLock<Option<rayon::ThreadPool>>);

/// Below the API's priority; not so far below that logins stall while the
/// API is busy.
#[cfg(target_os = "linux")]
const NICE: i32 = 10;

impl PasswordPool {
    fn pool(&self) -> Option<&rayon::ThreadPool> {
        self.0
            .get_or_init(|| {
                let n = std::thread::available_parallelism().map_or(2, |n| n.get());
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("pagegrant-password-{i}"))
                    .start_handler(|_| lower_priority())
                    // A panic in one check must not abort the process (rayon's
                    // default for `spawn`); its caller sees the channel close.
                    .panic_handler(|_| tracing::error!("a password check panicked"))
                    .build()
                    .map_err(
                        |e| tracing::error!(error = %e, "starting the password threads failed"),
                    )
                    .ok()
            })
            .as_ref()
    }

    /// Runs `f` on a password thread and awaits its result; `None` if no
    /// thread could take it or it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool()?.spawn(move || {
            let _ = tx.send(f());
        });
        rx.await.ok()
    }
}

/// On Linux the nice value is per thread, so this changes only the calling
/// (password) thread.
#[cfg(target_os = "linux")]
fn lower_priority() {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), NICE) {
        tracing::warn!(error = %e, "could not lower the password thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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
        created_ms: crate::db::models::now_ms(),
        // Filled in by the first request that carries the cookie.
        user_agent: None,
        address: None,
        last_seen_at: t,
        // A login is a proof (re-authentication, `domain::sessions`).
        proved_at: t,
    };
    (value, session)
}

/// Ends a session (logout): the row goes, so the cookie is worthless.
pub fn sign_out(conn: &mut Conn, session_hash: &str) -> AppResult<()> {
    sessions::delete(conn, session_hash)?;
    Ok(())
}

/// Settles a counted attempt that proves who an already signed-in person
/// is (**Confirm it's you**, a password change): as `finish_attempt`, but
/// no session starts. A right password clears the account's counter and
/// gives the address its unit back; a wrong one stays counted, so the
/// re-authentication page feeds the same login throttle.
pub fn settle_proof(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    counted: Counted,
    matched: bool,
) -> AppResult<Option<User>> {
    if password_refused(conn, cfg, &counted)? {
        return Ok(None);
    }
    settle_any_proof(conn, cfg, counted, matched)
}

/// As `settle_proof` for a proof that is not a password (a code, a
/// passkey): `matched` says whether it held.
pub fn settle_any_proof(
    conn: &mut Conn,
    cfg: &SecurityConfig,
    counted: Counted,
    matched: bool,
) -> AppResult<Option<User>> {
    match (matched, counted.user) {
        (true, Some(user)) => {
            throttle::clear(conn, &account_key(&counted.email))?;
            throttle::give_back(conn, &counted.ip_unit.0, counted.ip_unit.1)?;
            Ok(Some(user))
        }
        _ => {
            if counted.opened {
                throttle::purge_closed(conn, now(), cfg.longest_window_s())?;
            }
            Ok(None)
        }
    }
}

/// True for a password attempt on an account that turned password sign-in
/// off (S96): its units stay taken, as a wrong password's do.
fn password_refused(conn: &mut Conn, cfg: &SecurityConfig, counted: &Counted) -> AppResult<bool> {
    let Some(user) = &counted.user else {
        return Ok(false);
    };
    if !users::password_off(conn, &user.id)? {
        return Ok(false);
    }
    if counted.opened {
        throttle::purge_closed(conn, now(), cfg.longest_window_s())?;
    }
    Ok(true)
}

/// A user's name for lists ("Unknown" once they are gone).
pub fn name_of(conn: &mut Conn, id: &UserId) -> AppResult<String> {
    Ok(users::by_id(conn, id)?
        .map(|u| u.name)
        .unwrap_or_else(|| "Unknown".into()))
}

/// The live session whose id hashes to `hash`, with its user.
pub fn live_session(conn: &mut Conn, hash: &str, at: i64) -> AppResult<Option<(Session, User)>> {
    Ok(sessions::live(conn, hash, at)?)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::PasswordPool;

    /// A check runs on a password thread, below the API's priority, and its
    /// result comes back to the awaiting caller.
    #[test]
    fn password_checks_run_at_nice_10_on_their_own_threads() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let pool = PasswordPool::default();
        let (name, nice) = rt
            .block_on(pool.run(|| {
                let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid()));
                (std::thread::current().name().map(String::from), nice.ok())
            }))
            .expect("a password thread ran the check");
        assert!(name.is_some_and(|n| n.starts_with("pagegrant-password-")));
        assert!(nice.is_some_and(|n| n >= 10), "nice {nice:?}");
    }
}

/// Records that a session's one-time note (`http::once`) was opened; false
/// if it already was, so a replayed cookie shows nothing (S80).
pub fn open_note_once(c: &mut Conn, id: &str, expires_at: i64) -> AppResult<bool> {
    Ok(used_notes::open_once(c, id, expires_at, now())?)
}
