//! Two-step verification (issue 28 items 2 and 3): a TOTP secret (RFC 6238:
//! SHA-1, 6 digits, 30-second steps, one step of skew either way, the
//! parameters every authenticator app reads), ten single-use recovery
//! codes, the login's second step, the operator's reset, and the Enterprise
//! workspace policy that requires it.
//!
//! The secret is sealed with the server's secret box, as internal tokens
//! are. Recovery codes are 80 random bits each, stored as SHA-256 of the
//! user id and the code: with that much entropy a slow hash (argon2) adds
//! nothing: no attacker with the table can search 2^80 codes, and ten
//! argon2 hashes would cost a second of CPU at every renewal.

use totp_rs::{Algorithm, TOTP};

use crate::config::SecurityConfig;
use crate::crypto::{self, SecretBox};
use crate::db::models::{now, TwoStep, TwoStepMethod, User, UserId, WorkspaceId};
use crate::db::queries::{throttle, two_step as q, users};
use crate::db::{self, Conn, Pool};
use crate::domain::accounts::{self, PasswordPool};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::error::{AppError, AppResult};

pub const DIGITS: usize = 6;
pub const STEP_S: u64 = 30;
pub const SKEW: i64 = 1;
/// Recovery codes shown at enrolment and at each renewal.
pub const RECOVERY_CODES: usize = 10;
/// The issuer authenticator apps show beside the account.
const ISSUER: &str = "pagegrant";

/// Why a member of a workspace that requires two-step verification is
/// refused; `http::errors` shows it with a link to turn it on.
pub const REQUIRED: &str =
    "This workspace requires two-step verification. Turn it on for your account to continue.";

fn totp(secret: Vec<u8>, email: &str) -> AppResult<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_S,
        secret,
        Some(ISSUER.into()),
        email.replace(':', ""),
    )
    .map_err(|e| AppError::internal(format!("totp: {e}")))
}

fn secret_of(sbox: &SecretBox, row: &TwoStep) -> AppResult<Vec<u8>> {
    let b32 = sbox.decrypt(&row.secret_sealed)?;
    totp_rs::Secret::Encoded(b32)
        .to_bytes()
        .map_err(|_| AppError::internal("sealed TOTP secret is not base32"))
}

/// The time step a code matches at `at` (± `SKEW`), if any.
fn matching_step(t: &TOTP, code: &str, at: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = at.max(0) / STEP_S as i64;
    (now_step - SKEW..=now_step + SKEW).find(|s| {
        let want = t.generate((*s).max(0) as u64 * STEP_S);
        crypto::constant_time_eq(&want, code)
    })
}

/// What the enrolment page shows while it waits for the first code.
pub struct Enrolment {
    /// The secret in base32, to type into an app that cannot scan.
    pub secret: String,
    /// The `otpauth://` QR code as a PNG, base64.
    pub qr_png_b64: String,
}

/// Where a person's two-step verification stands.
pub enum Status {
    Off,
    Enrolling(Enrolment),
    /// On; `passkey` when the second step is one of the person's passkeys
    /// rather than an app's code.
    On {
        recovery_left: i64,
        passkey: bool,
    },
}

fn enrolment(sbox: &SecretBox, user: &User, row: &TwoStep) -> AppResult<Enrolment> {
    let t = totp(secret_of(sbox, row)?, &user.email)?;
    let qr = t
        .get_qr_base64()
        .map_err(|e| AppError::internal(format!("qr: {e}")))?;
    Ok(Enrolment {
        secret: t.get_secret_base32(),
        qr_png_b64: qr,
    })
}

pub fn status(c: &mut Conn, sbox: &SecretBox, user: &User) -> AppResult<Status> {
    Ok(match q::of_user(c, &user.id)? {
        None => Status::Off,
        Some(row) if row.enabled_at.is_none() => Status::Enrolling(enrolment(sbox, user, &row)?),
        Some(row) => Status::On {
            recovery_left: q::recovery_left(c, &user.id)?,
            passkey: row.method == TwoStepMethod::Passkey,
        },
    })
}

pub fn enabled(c: &mut Conn, user: &UserId) -> AppResult<bool> {
    Ok(q::enabled(c, user)?)
}

/// **Set up**: a new secret, waiting for its first code. Refused while
/// two-step verification is on (turn it off first).
pub fn start(c: &mut Conn, sbox: &SecretBox, user: &User) -> AppResult<()> {
    if q::enabled(c, &user.id)? {
        return Err(AppError::Conflict(
            "Two-step verification is already on.".into(),
        ));
    }
    // 160 bits, RFC 4226's recommended length.
    let b32 = totp_rs::Secret::Raw(crypto::random_bytes(20))
        .to_encoded()
        .to_string();
    q::put(
        c,
        &TwoStep {
            user_id: user.id.clone(),
            secret_sealed: sbox.encrypt(&b32)?,
            created_at: now(),
            enabled_at: None,
            last_step: 0,
            method: TwoStepMethod::Totp,
        },
    )?;
    Ok(())
}

/// Whether the person's second step is one of their passkeys.
pub fn uses_passkey(c: &mut Conn, user: &UserId) -> AppResult<bool> {
    Ok(q::of_user(c, user)?
        .is_some_and(|r| r.enabled_at.is_some() && r.method == TwoStepMethod::Passkey))
}

/// **Use a passkey**: two-step verification on with one of the person's
/// passkeys as the second step (they need one), and ten recovery codes
/// returned to be shown once, as for an app. Refused while it is on.
pub fn enable_with_passkey(c: &mut Conn, user: &User) -> AppResult<Vec<String>> {
    db::write_tx(c, |c| {
        if q::enabled(c, &user.id)? {
            return Err(AppError::Conflict(
                "Two-step verification is already on.".into(),
            ));
        }
        if crate::db::queries::passkeys::for_user(c, &user.id)?.is_empty() {
            return Err(AppError::invalid(
                "Add a passkey first (My account → Passkeys). Nothing changed.",
            ));
        }
        let t = now();
        q::put(
            c,
            &TwoStep {
                user_id: user.id.clone(),
                secret_sealed: String::new(),
                created_at: t,
                enabled_at: Some(t),
                last_step: 0,
                method: TwoStepMethod::Passkey,
            },
        )?;
        let codes = new_codes(c, &user.id)?;
        audit::record(
            c,
            None,
            Actor::User(&user.id),
            AuditAction::TwoStepEnabled,
            &user.id,
            format!("{} (a passkey)", user.email),
        )?;
        Ok(codes)
    })
}

/// Ten new codes: their hashes replace the user's, the codes are returned
/// to be shown once.
fn new_codes(c: &mut Conn, user: &UserId) -> AppResult<Vec<String>> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|k| recovery_hash(user, k)).collect();
    q::set_recovery(c, user, &hashes, now())?;
    Ok(codes)
}

/// 80 random bits in Crockford-like base32, as four groups of four.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let raw = crypto::random_bytes(10);
    let mut bits: u128 = 0;
    for b in raw {
        bits = (bits << 8) | u128::from(b);
    }
    let chars: Vec<char> = (0..16)
        .map(|i| ALPHABET[((bits >> (75 - 5 * i)) & 31) as usize] as char)
        .collect();
    chars
        .chunks(4)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed: dashes and spaces dropped, lower case.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn recovery_hash(user: &UserId, code: &str) -> String {
    crypto::sha256_hex(&format!("recovery:{user}:{}", normalize_recovery(code)))
}

/// Confirms enrolment with the first code: two-step verification is on,
/// and the ten recovery codes are returned to be shown once.
pub fn confirm(c: &mut Conn, sbox: &SecretBox, user: &User, code: &str) -> AppResult<Vec<String>> {
    db::write_tx(c, |c| {
        let row = q::of_user(c, &user.id)?
            .filter(|r| r.enabled_at.is_none())
            .ok_or_else(|| AppError::invalid("Start the set-up again: it was not in progress."))?;
        let t = totp(secret_of(sbox, &row)?, &user.email)?;
        let step = matching_step(&t, code, now()).ok_or_else(|| {
            AppError::invalid("That code is not right. Enter the 6-digit code your app shows now.")
        })?;
        q::use_step(c, &user.id, step)?;
        q::enable(c, &user.id, now())?;
        let codes = new_codes(c, &user.id)?;
        audit::record(
            c,
            None,
            Actor::User(&user.id),
            AuditAction::TwoStepEnabled,
            &user.id,
            user.email.clone(),
        )?;
        Ok(codes)
    })
}

/// **New recovery codes**: the old ones stop working.
pub fn renew_codes(c: &mut Conn, user: &User) -> AppResult<Vec<String>> {
    db::write_tx(c, |c| {
        if !q::enabled(c, &user.id)? {
            return Err(AppError::invalid("Two-step verification is off."));
        }
        let codes = new_codes(c, &user.id)?;
        audit::record(
            c,
            None,
            Actor::User(&user.id),
            AuditAction::TwoStepCodesRenewed,
            &user.id,
            user.email.clone(),
        )?;
        Ok(codes)
    })
}

/// Checks a 6-digit code (each time step accepted once) or an unused
/// recovery code (spent, and audited) of this user. False for anything
/// else, including another user's codes.
pub fn check_code(c: &mut Conn, sbox: &SecretBox, user: &User, code: &str) -> AppResult<bool> {
    let Some(row) = q::of_user(c, &user.id)?.filter(|r| r.enabled_at.is_some()) else {
        return Ok(false);
    };
    let trimmed = code.trim();
    if trimmed.len() == DIGITS && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        // A passkey's second step has no app, so no 6-digit code.
        if row.method != TwoStepMethod::Totp {
            return Ok(false);
        }
        let t = totp(secret_of(sbox, &row)?, &user.email)?;
        return Ok(match matching_step(&t, trimmed, now()) {
            Some(step) => q::use_step(c, &user.id, step)?,
            None => false,
        });
    }
    if normalize_recovery(trimmed).len() != 16 {
        return Ok(false);
    }
    let used = q::use_recovery(c, &user.id, &recovery_hash(&user.id, trimmed), now())?;
    if used {
        let left = q::recovery_left(c, &user.id)?;
        audit::record(
            c,
            None,
            Actor::User(&user.id),
            AuditAction::TwoStepRecoveryUsed,
            &user.id,
            format!("{} recovery code(s) left", left),
        )?;
    }
    Ok(used)
}

/// **Turn off**: with a current code, a recovery code or the password.
pub async fn turn_off(
    pool: &Pool,
    passwords: &PasswordPool,
    sbox: &SecretBox,
    user: &User,
    proof: String,
) -> AppResult<()> {
    let (u, sb) = (user.clone(), sbox.clone());
    let p = proof.clone();
    let by_code = db::run(pool, move |c| {
        db::write_tx(c, |c| check_code(c, &sb, &u, &p))
    })
    .await?;
    let uid = user.id.clone();
    let password_on = !db::run(pool, move |c| Ok(users::password_off(c, &uid)?)).await?;
    let ok = by_code
        || password_on && {
            let hash = user.password_hash.clone();
            passwords
                .run(move || crypto::verify_password(Some(&hash), &proof))
                .await
                .unwrap_or(false)
        };
    if !ok {
        return Err(AppError::invalid(
            "That is neither a current code nor your password. Nothing changed.",
        ));
    }
    let u = user.clone();
    db::run(pool, move |c| {
        remove(c, &u.id, Actor::User(&u.id), &u.email)
    })
    .await
}

fn remove(c: &mut Conn, user: &UserId, actor: Actor<'_>, email: &str) -> AppResult<()> {
    db::write_tx(c, |c| {
        q::delete(c, user)?;
        audit::record(
            c,
            None,
            actor,
            AuditAction::TwoStepDisabled,
            user,
            email.to_string(),
        )?;
        Ok(())
    })
}

/// `pagegrant user reset-2fa`: an operator turns it off for someone who
/// lost both their app and their recovery codes. False if it was off.
pub fn reset(c: &mut Conn, user: &User) -> AppResult<bool> {
    if q::of_user(c, &user.id)?.is_none() {
        return Ok(false);
    }
    remove(
        c,
        &user.id,
        Actor::System,
        &format!("{} (reset by an operator)", user.email),
    )?;
    Ok(true)
}

/// A second step as posted: the pending login's cookie hash and the code.
pub struct SecondAttempt {
    pub pending_hash: String,
    pub code: String,
    pub ip: String,
}

pub enum SecondOutcome {
    /// Logged in: the user and the new session's cookie value.
    Ok(User, String),
    /// A wrong code: counted toward the login throttle.
    Wrong,
    /// No live pending login (expired, used, or never): log in again.
    Expired,
}

/// The login's second step: counted behind the same throttle as the
/// password (per account and per address), then the code checked; only a
/// right code consumes the pending login and starts the session.
pub fn second_step(
    c: &mut Conn,
    sbox: &SecretBox,
    cfg: &SecurityConfig,
    a: &SecondAttempt,
) -> AppResult<SecondOutcome> {
    second_step_with(c, cfg, &a.pending_hash, &a.ip, |c, user| {
        db::write_tx(c, |c| check_code(c, sbox, user, &a.code))
    })
}

/// The second step with any proof `check` makes of the pending login's
/// person (a code; one of their passkeys, `passkeys::check_proof`): counted
/// first, as a code is. An `Err` from `check` (a used or expired passkey
/// challenge) leaves the attempt counted and the pending login as it was.
pub fn second_step_with(
    c: &mut Conn,
    cfg: &SecurityConfig,
    pending_hash: &str,
    ip: &str,
    check: impl FnOnce(&mut Conn, &User) -> AppResult<bool>,
) -> AppResult<SecondOutcome> {
    let t = now();
    let Some(pending) = q::pending(c, pending_hash, t)? else {
        return Ok(SecondOutcome::Expired);
    };
    let Some(user) = users::by_id(c, &pending.user_id)? else {
        return Ok(SecondOutcome::Expired);
    };
    let Some(counted) = accounts::count_attempt(c, cfg, &user.email, ip)? else {
        return Ok(SecondOutcome::Expired);
    };
    let ok = check(c, &user)?;
    if !ok {
        accounts::finish_second_step(c, cfg, counted, false, None)?;
        return Ok(SecondOutcome::Wrong);
    }
    if !q::take_pending(c, pending_hash)? {
        return Ok(SecondOutcome::Expired);
    }
    // The password step's unit from the address comes back with this one's.
    throttle::give_back(c, &pending.ip_key, pending.ip_window)?;
    match accounts::finish_second_step(c, cfg, counted, true, pending.replaces)? {
        accounts::LoginOutcome::Ok(user, value) => Ok(SecondOutcome::Ok(user, value)),
        _ => Ok(SecondOutcome::Expired),
    }
}

/// The refusal for a second step whose pending login is gone.
fn sign_in_again() -> AppError {
    AppError::invalid("Your sign-in has expired. Sign in with your password again.")
}

/// **Use a passkey** at the second step: a ceremony naming only the
/// pending login's person's passkeys, bound to that pending login.
pub fn start_passkey_step(
    c: &mut Conn,
    cfg: &crate::config::Config,
    pending_hash: &str,
) -> AppResult<crate::domain::passkeys::Ceremony> {
    let p = q::pending(c, pending_hash, now())?.ok_or_else(sign_in_again)?;
    let purpose = crate::db::models::PasskeyPurpose::SecondStep;
    crate::domain::passkeys::start_proof(c, cfg, &p.user_id, purpose, pending_hash)
}

/// The second step with one of the person's passkeys (S95): counted as a
/// code is; another person's passkey is a wrong answer.
pub fn passkey_second_step(
    c: &mut Conn,
    cfg: &crate::config::Config,
    pending_hash: &str,
    ip: &str,
    answer: &crate::domain::passkeys::ProofAnswer,
) -> AppResult<SecondOutcome> {
    let purpose = crate::db::models::PasskeyPurpose::SecondStep;
    second_step_with(c, &cfg.security, pending_hash, ip, |c, user| {
        crate::domain::passkeys::check_proof(c, cfg, user, purpose, pending_hash, answer)
    })
}

/// What the second-step page offers the pending login's person.
pub struct Choices {
    /// A 6-digit code from an app (the app is their method).
    pub app: bool,
    /// **Use a passkey** (they have one).
    pub passkey: bool,
}

/// The live pending login with this hash and what its second step may be,
/// or `None` (expired, used, never).
pub fn pending_choices(c: &mut Conn, hash: &str) -> AppResult<Option<Choices>> {
    let Some(p) = q::pending(c, hash, now())? else {
        return Ok(None);
    };
    let app = q::of_user(c, &p.user_id)?.is_some_and(|r| r.method == TwoStepMethod::Totp);
    let passkey = !crate::db::queries::passkeys::for_user(c, &p.user_id)?.is_empty();
    Ok(Some(Choices { app, passkey }))
}

/// Refuses a member of a workspace that requires two-step verification
/// who has not turned it on (consent, connections, tokens).
pub fn must_have(c: &mut Conn, ws: &WorkspaceId, user: &UserId) -> AppResult<()> {
    if needs_enrolment(c, ws, user)? {
        return Err(AppError::Forbidden(REQUIRED.into()));
    }
    Ok(())
}

/// True when the workspace requires two-step verification and this
/// person has not turned it on.
pub fn needs_enrolment(c: &mut Conn, ws: &WorkspaceId, user: &UserId) -> AppResult<bool> {
    Ok(q::required(c, ws)? && !q::enabled(c, user)?)
}

pub fn required(c: &mut Conn, ws: &WorkspaceId) -> AppResult<bool> {
    Ok(q::required(c, ws)?)
}

/// **Require two-step verification** on or off (an Enterprise owner; run
/// inside `domain::enterprise::apply`'s transaction). Saving what is
/// already so records nothing.
pub fn set_required(c: &mut Conn, ws: &WorkspaceId, by: &UserId, on: bool) -> AppResult<()> {
    if q::required(c, ws)? == on {
        return Ok(());
    }
    q::set_required(c, ws, by, on, now())?;
    audit::record(
        c,
        Some(ws),
        Actor::User(by),
        AuditAction::TwoStepRequired,
        ws,
        if on { "on" } else { "off" }.into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_totp() -> TOTP {
        // RFC 6238 appendix B's SHA-1 key; its 8-digit values, last 6 digits.
        totp(b"12345678901234567890".to_vec(), "ada@example.com").expect("totp")
    }

    /// A fixed clock: RFC 6238's vectors at their times, one step of skew
    /// either way, nothing older or newer.
    #[test]
    fn codes_match_rfc_6238_with_one_step_of_skew() {
        let t = rfc_totp();
        assert_eq!(t.generate(59), "287082");
        assert_eq!(t.generate(1_111_111_109), "081804");
        let at = 1_111_111_109_i64;
        let step = at / 30;
        assert_eq!(matching_step(&t, "081804", at), Some(step));
        assert_eq!(matching_step(&t, "081804", at + 30), Some(step));
        assert_eq!(matching_step(&t, "081804", at - 30), Some(step));
        assert_eq!(matching_step(&t, "081804", at + 300), None);
        assert_eq!(matching_step(&t, "081804", at - 300), None);
        for bad in ["", "08180", "0818045", "08180a", " 081804x"] {
            assert_eq!(matching_step(&t, bad, at), None, "{bad:?}");
        }
    }

    /// 16 characters of an unambiguous alphabet in four groups, 80 bits,
    /// and typed in any case, with or without dashes, to the same hash.
    #[test]
    fn recovery_codes_are_80_bits_and_forgiving_to_type() {
        let user = UserId::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let k = recovery_code();
            assert_eq!(k.len(), 19);
            assert!(k.split('-').all(|g| g.len() == 4));
            assert!(!k.contains(['i', 'l', 'o', 'u']));
            assert!(seen.insert(k.clone()));
            let typed = k.to_uppercase().replace('-', " ");
            assert_eq!(recovery_hash(&user, &typed), recovery_hash(&user, &k));
            assert_ne!(recovery_hash(&UserId::new(), &k), recovery_hash(&user, &k));
        }
    }
}
