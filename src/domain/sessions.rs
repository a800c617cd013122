//! Your devices and re-authentication (issue 28 items 4 and 5): a person's
//! sessions as My account → Sessions lists them, ending one or all others,
//! changing the password, and the proof of identity ("sudo mode") that
//! sensitive actions ask for when it is older than `security.reauth_s`.
//!
//! Other ways of proving who one is (a TOTP code, a passkey) call
//! `record_proof`; a passkey removal calls `end_other_sessions`.

use crate::config::SecurityConfig;
use crate::crypto;
use crate::db::models::{now, Session, User, UserId};
use crate::db::queries::{sessions, users};
use crate::db::{self, Conn, Pool};
use crate::domain::accounts::{self, PasswordPool};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::error::{AppError, AppResult};

/// A session's last-seen time is written at most this often, so reading a
/// page is not a write per request.
pub const TOUCH_EVERY_S: i64 = 60;

/// The longest `User-Agent` kept.
const MAX_USER_AGENT: usize = 512;

/// Whether a proof made at `proved_at` still covers a sensitive action at
/// `at` under `reauth_s`.
pub fn is_recent(session: &Session, reauth_s: i64, at: i64) -> bool {
    at - session.proved_at <= reauth_s
}

/// Notes that the request's browser used `session` now: at most once a
/// minute, or at once when the browser or address changed (the first
/// request after a login fills both in).
pub fn touch(
    conn: &mut Conn,
    session: &mut Session,
    user_agent: &str,
    address: &str,
    at: i64,
) -> AppResult<()> {
    let ua: String = user_agent.chars().take(MAX_USER_AGENT).collect();
    let stale = at - session.last_seen_at >= TOUCH_EVERY_S;
    let moved = session.user_agent.as_deref() != Some(ua.as_str())
        || session.address.as_deref() != Some(address);
    if !stale && !moved {
        return Ok(());
    }
    sessions::touch(conn, &session.id_hash, &ua, address, at)?;
    session.user_agent = Some(ua);
    session.address = Some(address.to_string());
    session.last_seen_at = at;
    Ok(())
}

/// Records that the person of the session with id hash `session_hash`
/// proved who they are just now (a password on **Confirm it's you**; TOTP
/// and passkey checks call it too).
pub fn record_proof(conn: &mut Conn, session_hash: &str) -> AppResult<()> {
    sessions::set_proved(conn, session_hash, now())?;
    Ok(())
}

/// A session as My account → Sessions shows it.
pub struct Device {
    /// Names the session in forms: a hash of its id hash, so the page
    /// never shows what the database keys sessions by.
    pub handle: String,
    pub browser: String,
    pub os: String,
    pub address: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The session of the request that lists them.
    pub this: bool,
}

fn handle_of(id_hash: &str) -> String {
    crypto::sha256_hex(id_hash)[..24].to_string()
}

/// The person's live sessions, this one first, then the newest.
pub fn list(conn: &mut Conn, user: &UserId, current: &str) -> AppResult<Vec<Device>> {
    let mut rows: Vec<Device> = sessions::live_for_user(conn, user, now())?
        .into_iter()
        .map(|s| {
            let (browser, os) = describe(s.user_agent.as_deref().unwrap_or(""));
            Device {
                handle: handle_of(&s.id_hash),
                browser,
                os,
                address: s.address.unwrap_or_else(|| "Unknown".into()),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                this: s.id_hash == current,
            }
        })
        .collect();
    rows.sort_by_key(|d| !d.this);
    Ok(rows)
}

/// Ends one of the person's other sessions, named by its handle; audited
/// as `session.ended`. This session is ended with **Log out**.
pub fn end(conn: &mut Conn, user: &UserId, current: &str, handle: &str) -> AppResult<String> {
    let found = sessions::live_for_user(conn, user, now())?
        .into_iter()
        .find(|s| handle_of(&s.id_hash) == handle)
        .ok_or(AppError::NotFound)?;
    if found.id_hash == current {
        return Err(AppError::invalid(
            "This is the session you are using. Use Log out to end it.",
        ));
    }
    let (browser, os) = describe(found.user_agent.as_deref().unwrap_or(""));
    let what = format!("{browser} on {os}");
    db::write_tx(conn, |c| {
        sessions::delete(c, &found.id_hash)?;
        audit::record(
            c,
            None,
            Actor::User(user),
            AuditAction::SessionEnded,
            &what,
            String::new(),
        )
    })?;
    Ok(what)
}

/// Ends every session of `user` but `keep` (this one); audited as
/// `sessions.ended_others`. The passkey page calls it after a removal when
/// the person ticks **End all other sessions**.
pub fn end_other_sessions(conn: &mut Conn, user: &UserId, keep: &str) -> AppResult<usize> {
    db::write_tx(conn, |c| {
        let n = sessions::delete_others(c, user, keep)?;
        audit::record(
            c,
            None,
            Actor::User(user),
            AuditAction::SessionsEndedOthers,
            &user,
            format!("{n} ended"),
        )?;
        Ok(n)
    })
}

/// A password checked behind the login throttle (wrong ones count toward
/// it as on the login page): the signed-in person's own, for **Confirm
/// it's you** and **Change password**.
pub async fn check_own_password(
    pool: &Pool,
    passwords: &PasswordPool,
    cfg: &SecurityConfig,
    user: &User,
    password: &str,
    ip: &str,
) -> AppResult<bool> {
    let (sec, email, ip) = (cfg.clone(), user.email.clone(), ip.to_string());
    let Some(counted) =
        db::run(pool, move |c| accounts::count_attempt(c, &sec, &email, &ip)).await?
    else {
        return Ok(false);
    };
    let matched = accounts::password_matches(passwords, &counted, password).await;
    let sec = cfg.clone();
    let who = db::run(pool, move |c| {
        accounts::settle_proof(c, &sec, counted, matched)
    })
    .await?;
    Ok(who.is_some_and(|u| u.id == user.id))
}

/// What **Confirm it's you** may take from a person.
pub struct Proofs {
    /// Their password (password sign-in is on).
    pub password: bool,
    /// A two-step code (an app's, when that is their method) or a recovery
    /// code: two-step verification is on.
    pub code: bool,
    /// One of their passkeys.
    pub passkey: bool,
}

pub fn proofs(conn: &mut Conn, user: &UserId) -> AppResult<Proofs> {
    Ok(Proofs {
        password: !users::password_off(conn, user)?,
        code: crate::domain::two_step::enabled(conn, user)?,
        passkey: crate::domain::passkeys::has_any(conn, user)?,
    })
}

/// A proof of identity on **Confirm it's you**.
pub enum Proof {
    Password(String),
    /// A two-step code or a recovery code.
    Code(String),
}

/// A proof other than a password checked behind the login throttle (S97):
/// the attempt is counted first; `check` says whether it held.
pub async fn counted_proof(
    pool: &Pool,
    cfg: &SecurityConfig,
    user: &User,
    ip: &str,
    check: impl FnOnce(&mut Conn, &User) -> AppResult<bool> + Send + 'static,
) -> AppResult<bool> {
    let (sec, u, ip) = (cfg.clone(), user.clone(), ip.to_string());
    db::run(pool, move |c| {
        let Some(counted) = accounts::count_attempt(c, &sec, &u.email, &ip)? else {
            return Ok(false);
        };
        let held = check(c, &u)?;
        let who = accounts::settle_any_proof(c, &sec, counted, held)?;
        Ok(who.is_some_and(|w| w.id == u.id))
    })
    .await
}

/// **Confirm it's you**: the person's password, a two-step code or a
/// recovery code, each behind the login throttle; right, the session's
/// proof is now.
#[allow(clippy::too_many_arguments)]
pub async fn reauthenticate(
    pool: &Pool,
    passwords: &PasswordPool,
    sbox: &crate::crypto::SecretBox,
    cfg: &SecurityConfig,
    user: &User,
    session_hash: &str,
    proof: Proof,
    ip: &str,
) -> AppResult<bool> {
    let held = match proof {
        Proof::Password(p) => check_own_password(pool, passwords, cfg, user, &p, ip).await?,
        Proof::Code(code) => {
            let sb = sbox.clone();
            counted_proof(pool, cfg, user, ip, move |c, u| {
                db::write_tx(c, |c| crate::domain::two_step::check_code(c, &sb, u, &code))
            })
            .await?
        }
    };
    if !held {
        return Ok(false);
    }
    let hash = session_hash.to_string();
    db::run(pool, move |c| record_proof(c, &hash)).await?;
    Ok(true)
}

/// **Confirm it's you** with one of the person's passkeys (the answer to
/// `passkeys::start_proof` with purpose `Reauth`, bound to this session),
/// behind the login throttle as a code is.
pub async fn reauthenticate_with_passkey(
    pool: &Pool,
    cfg: &crate::config::Config,
    user: &User,
    session_hash: &str,
    answer: crate::domain::passkeys::ProofAnswer,
    ip: &str,
) -> AppResult<bool> {
    let (full, bound) = (cfg.clone(), session_hash.to_string());
    let held = counted_proof(pool, &cfg.security, user, ip, move |c, u| {
        let purpose = crate::db::models::PasskeyPurpose::Reauth;
        crate::domain::passkeys::check_proof(c, &full, u, purpose, &bound, &answer)
    })
    .await?;
    if !held {
        return Ok(false);
    }
    let hash = session_hash.to_string();
    db::run(pool, move |c| record_proof(c, &hash)).await?;
    Ok(true)
}

/// **Change password** as asked.
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub ip: String,
    /// **End all other sessions** ticked.
    pub end_others: bool,
}

/// Changes the signed-in person's password (the current one checked
/// behind the login throttle, the new one under the same rules as
/// everywhere); audited as `password.changed`. Ends the other sessions
/// when asked; this one stays, and counts as freshly proved. `Ok(false)`:
/// the current password was wrong.
pub async fn change_password(
    pool: &Pool,
    passwords: &PasswordPool,
    cfg: &SecurityConfig,
    user: &User,
    session_hash: &str,
    change: PasswordChange,
) -> AppResult<bool> {
    accounts::check_password(&change.new)?;
    if !check_own_password(pool, passwords, cfg, user, &change.current, &change.ip).await? {
        return Ok(false);
    }
    let new = change.new;
    let hash = passwords
        .run(move || crypto::hash_password(&new))
        .await
        .ok_or_else(|| AppError::internal("the password threads are not running"))??;
    let (uid, keep, end_others) = (user.id.clone(), session_hash.to_string(), change.end_others);
    db::run(pool, move |c| {
        db::write_tx(c, |c| {
            users::set_password_hash(c, &uid, &hash)?;
            let ended = match end_others {
                true => sessions::delete_others(c, &uid, &keep)?,
                false => 0,
            };
            sessions::set_proved(c, &keep, now())?;
            audit::record(
                c,
                None,
                Actor::User(&uid),
                AuditAction::PasswordChanged,
                &uid,
                format!("{ended} other sessions ended"),
            )
        })
    })
    .await?;
    Ok(true)
}

/// The browser and operating system a `User-Agent` names, as people say
/// them ("Firefox", "macOS"). A dozen lines instead of a crate: the list
/// shows a person their own devices, so the families that matter are few,
/// and a user-agent database (woothee, uap-core) would be a dependency to
/// keep current for a label; anything else reads "Unknown browser".
pub fn describe(ua: &str) -> (String, String) {
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") || ua.contains("Opera") {
        "Opera"
    } else if ua.contains("Firefox/") || ua.contains("FxiOS/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") && ua.contains("Version/") {
        "Safari"
    } else if ua.starts_with("curl/") {
        "curl"
    } else {
        "Unknown browser"
    };
    let os = if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("CrOS") {
        "ChromeOS"
    } else if ua.contains("Linux") || ua.contains("X11") {
        "Linux"
    } else {
        "an unknown system"
    };
    (browser.to_string(), os.to_string())
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn user_agents_read_as_browser_and_system() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(describe(chrome), ("Chrome".into(), "Linux".into()));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(iphone), ("Safari".into(), "iOS".into()));
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(describe(edge), ("Edge".into(), "Windows".into()));
        assert_eq!(describe("").0, "Unknown browser");
    }
}
