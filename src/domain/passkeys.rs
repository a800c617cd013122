//! Passkeys (WebAuthn, issue 28 item 1): a person adds them in My account →
//! Passkeys and signs in with one on the login page. webauthn-rs checks the
//! ceremonies; this module keeps their state server-side (one row per
//! challenge, bound to the session or login page that asked, used once,
//! five minutes), stores the credentials, counts failed sign-ins in the
//! login throttle, and starts the session through `accounts::open_session`
//! as a password login does.
//!
//! The relying party is `server.issuer`: its host is the RP id, the issuer
//! itself the one origin accepted. Browsers refuse an IP address as an RP
//! id, so with such an issuer passkeys are off (`unavailable` says why).

use base64::Engine;
use serde_json::Value;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, WebauthnBuilder,
};
use webauthn_rs::Webauthn;

use crate::config::{Config, SecurityConfig};
use crate::crypto;
use crate::db::models::{
    now, PasskeyChallenge, PasskeyId, PasskeyPurpose, PasskeyRow, TwoStepMethod, User, UserId,
};
use crate::db::queries::{passkeys, throttle, users};
use crate::db::{self, Conn, Pool};
use crate::domain::accounts;
use crate::domain::audit::{self, Actor, AuditAction};
use crate::error::{AppError, AppResult};

/// How long a ceremony may take, from options to answer.
pub const CHALLENGE_TTL_S: i64 = 300;
/// Passkeys one person may keep.
pub const MAX_PER_USER: usize = 20;
/// Ceremonies one session or login page may have open at once (the
/// oldest end beyond it).
const MAX_OPEN: i64 = 10;
/// The longest name a passkey may have, in characters.
pub const MAX_NAME: usize = 100;

/// Why passkeys cannot work with this issuer, or `None` when they can.
pub fn unavailable(cfg: &Config) -> Option<String> {
    match Url::parse(&cfg.server.issuer) {
        Ok(u) if u.domain().is_some() => None,
        _ => Some(format!(
            "Passkeys need a domain name: browsers refuse them at an IP address such as {}. \
             Open pagegrant at http://localhost:{} instead (set server.issuer to it), \
             or at its https domain name.",
            cfg.server.issuer,
            Url::parse(&cfg.server.issuer)
                .ok()
                .and_then(|u| u.port_or_known_default())
                .unwrap_or(8080)
        )),
    }
}

fn webauthn(cfg: &Config) -> AppResult<Webauthn> {
    if let Some(why) = unavailable(cfg) {
        return Err(AppError::Forbidden(why));
    }
    let origin =
        Url::parse(&cfg.server.issuer).map_err(|e| AppError::internal(format!("issuer: {e}")))?;
    let rp_id = origin.domain().unwrap_or_default().to_string();
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| {
            b.rp_name("pagegrant")
                .timeout(std::time::Duration::from_secs(CHALLENGE_TTL_S as u64))
                .build()
        })
        .map_err(|e| AppError::internal(format!("webauthn: {e}")))
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The WebAuthn user handle: the user's id as 16 bytes.
fn handle(user: &UserId) -> AppResult<Uuid> {
    Uuid::try_parse(user.as_str()).map_err(|e| AppError::internal(format!("user id: {e}")))
}

fn invalid_json(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::invalid(format!("The {what} could not be read: {e}"))
}

/// A ceremony started: its id (posted back with the answer) and the
/// options for `navigator.credentials`.
pub struct Ceremony {
    pub id: String,
    pub options: Value,
}

fn store(c: &mut Conn, row: PasskeyChallenge) -> AppResult<()> {
    db::write_tx(c, |c| {
        passkeys::insert_challenge(c, &row, now())?;
        passkeys::trim_bound(c, &row.bound_to, MAX_OPEN)?;
        Ok(())
    })
}

/// A passkey's name as typed: trimmed, 1 to `MAX_NAME` characters.
pub fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AppError::invalid(format!(
            "A passkey needs a name of 1 to {MAX_NAME} characters."
        )));
    }
    Ok(name.to_string())
}

/// A person's passkeys, oldest first.
pub fn list(c: &mut Conn, user: &UserId) -> AppResult<Vec<PasskeyRow>> {
    Ok(passkeys::for_user(c, user)?)
}

/// Starts adding a passkey named `name` for `user`, bound to their session.
/// The options ask for a discoverable credential (a passkey that names its
/// person at sign-in) and exclude the ones they already have.
pub fn start_registration(
    c: &mut Conn,
    cfg: &Config,
    user: &User,
    session: &str,
    name: &str,
) -> AppResult<Ceremony> {
    let name = check_name(name)?;
    let wa = webauthn(cfg)?;
    let mine = passkeys::for_user(c, &user.id)?;
    if mine.len() >= MAX_PER_USER {
        return Err(AppError::Conflict(format!(
            "You have {MAX_PER_USER} passkeys, the most one account may keep. Remove one first."
        )));
    }
    let exclude = mine
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.credential).ok())
        .map(|p| p.cred_id().clone())
        .collect::<Vec<_>>();
    let (ccr, state) = wa
        .start_passkey_registration(handle(&user.id)?, &user.email, &user.name, Some(exclude))
        .map_err(|e| AppError::internal(format!("webauthn: {e}")))?;
    let mut options = serde_json::to_value(&ccr).map_err(|e| AppError::internal(e.to_string()))?;
    // webauthn-rs discourages resident keys for passkeys; discoverable
    // sign-in needs them (the server's check does not depend on it).
    if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
        sel["residentKey"] = Value::from("required");
        sel["requireResidentKey"] = Value::from(true);
    }
    let id = crypto::random_token(crypto::SECRET_BYTES);
    store(
        c,
        PasskeyChallenge {
            id: id.clone(),
            purpose: PasskeyPurpose::Register,
            bound_to: session.to_string(),
            user_id: Some(user.id.clone()),
            name,
            state: serde_json::to_string(&state).map_err(|e| AppError::internal(e.to_string()))?,
            expires_at: now() + CHALLENGE_TTL_S,
        },
    )?;
    Ok(Ceremony { id, options })
}

/// The challenge `id` taken out (committed, so it answers once whatever
/// follows), or the refusal for a missing, used, expired or foreign one.
fn take(
    c: &mut Conn,
    id: &str,
    purpose: PasskeyPurpose,
    bound_to: &str,
) -> AppResult<PasskeyChallenge> {
    db::write_tx(c, |c| {
        Ok(passkeys::take_challenge(c, id, purpose, bound_to, now())?)
    })?
    .ok_or_else(|| {
        AppError::invalid(
            "This passkey request has expired or was already used. Try again.".to_string(),
        )
    })
}

/// Finishes adding a passkey: the answer must meet the challenge `id` of
/// this session (once, within five minutes), come from the issuer's origin
/// and carry a valid attestation; the credential must be new here.
pub fn finish_registration(
    c: &mut Conn,
    cfg: &Config,
    user: &User,
    session: &str,
    id: &str,
    credential: &Value,
) -> AppResult<PasskeyRow> {
    let wa = webauthn(cfg)?;
    let ch = take(c, id, PasskeyPurpose::Register, session)?;
    if ch.user_id.as_ref() != Some(&user.id) {
        return Err(AppError::invalid("This passkey request is not yours."));
    }
    let state: PasskeyRegistration =
        serde_json::from_str(&ch.state).map_err(|e| AppError::internal(e.to_string()))?;
    let reg: RegisterPublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(|e| invalid_json("passkey", e))?;
    let key = wa
        .finish_passkey_registration(&reg, &state)
        .map_err(|e| AppError::invalid(format!("The passkey could not be verified ({e}).")))?;
    let row = PasskeyRow {
        id: PasskeyId::new(),
        user_id: user.id.clone(),
        name: ch.name,
        cred_id: b64url(key.cred_id()),
        credential: serde_json::to_string(&key).map_err(|e| AppError::internal(e.to_string()))?,
        counter: 0,
        created_at: now(),
        last_used_at: None,
    };
    db::write_tx(c, |c| {
        if passkeys::by_cred_id(c, &row.cred_id)?.is_some() {
            return Err(AppError::Conflict(
                "This passkey is already registered.".into(),
            ));
        }
        passkeys::insert(c, &row)?;
        let who = Actor::User(&user.id);
        audit::record(
            c,
            None,
            who,
            AuditAction::PasskeyAdded,
            &row.id,
            row.name.clone(),
        )
    })?;
    Ok(row)
}

/// Why the person's last passkey cannot go, if it cannot: it is their
/// only way in while password sign-in is off, or their second step.
fn last_one_needed(c: &mut Conn, user: &UserId) -> AppResult<Option<&'static str>> {
    if passkeys::for_user(c, user)?.len() > 1 {
        return Ok(None);
    }
    if users::password_off(c, user)? {
        return Ok(Some(
            "This is your last passkey and password sign-in is off: without it you could not sign in. Turn password sign-in back on first. Nothing changed.",
        ));
    }
    let second_step = crate::db::queries::two_step::of_user(c, user)?;
    if second_step.is_some_and(|r| r.enabled_at.is_some() && r.method == TwoStepMethod::Passkey) {
        return Ok(Some(
            "This is your last passkey and your two-step verification uses it. Turn two-step verification off (or add another passkey) first. Nothing changed.",
        ));
    }
    Ok(None)
}

/// A passkey named for the removal's confirm page (a 404 for anyone
/// else's), with why it cannot go, if it cannot.
pub fn for_removal(
    c: &mut Conn,
    user: &UserId,
    id: &PasskeyId,
) -> AppResult<(PasskeyRow, Option<&'static str>)> {
    let row = passkeys::by_id(c, user, id)?.ok_or(AppError::NotFound)?;
    Ok((row, last_one_needed(c, user)?))
}

/// Removes one of the person's passkeys (a 404 for anyone else's), and
/// ends their other sessions when asked (`keep`: this session's id hash).
/// Refused for the last passkey of a person who needs it to sign in.
pub fn remove(
    c: &mut Conn,
    user: &UserId,
    id: &PasskeyId,
    end_others_but: Option<&str>,
) -> AppResult<String> {
    db::write_tx(c, |c| {
        let row = passkeys::by_id(c, user, id)?.ok_or(AppError::NotFound)?;
        if let Some(why) = last_one_needed(c, user)? {
            return Err(AppError::Conflict(why.into()));
        }
        passkeys::delete(c, user, id)?;
        audit::record(
            c,
            None,
            Actor::User(user),
            AuditAction::PasskeyRemoved,
            id,
            row.name.clone(),
        )?;
        // As `sessions::end_other_sessions` does, in the same transaction.
        if let Some(keep) = end_others_but {
            let n = crate::db::queries::sessions::delete_others(c, user, keep)?;
            let why = format!("{n} ended");
            let who = Actor::User(user);
            audit::record(c, None, who, AuditAction::SessionsEndedOthers, user, why)?;
        }
        Ok(row.name)
    })
}

/// Whether the person has a passkey.
pub fn has_any(c: &mut Conn, user: &UserId) -> AppResult<bool> {
    Ok(!passkeys::for_user(c, user)?.is_empty())
}

/// Whether the person turned password sign-in off (passkeys only).
pub fn password_off(c: &mut Conn, user: &UserId) -> AppResult<bool> {
    Ok(users::password_off(c, user)?)
}

/// **Turn off password sign-in** (`on` false) or back on; audited. Off
/// needs at least one passkey: the person must keep a way in. True if
/// that changed anything.
pub fn set_password_sign_in(c: &mut Conn, user: &UserId, on: bool) -> AppResult<bool> {
    db::write_tx(c, |c| {
        if !on && passkeys::for_user(c, user)?.is_empty() {
            return Err(AppError::invalid(
                "Add a passkey first: without a password or a passkey you could not sign in. Nothing changed.",
            ));
        }
        let changed = users::set_password_off(c, user, (!on).then(now))?;
        if changed {
            let action = match on {
                true => AuditAction::PasswordSignInOn,
                false => AuditAction::PasswordSignInOff,
            };
            audit::record(c, None, Actor::User(user), action, user, String::new())?;
        }
        Ok(changed)
    })
}

/// `pagegrant user reset-2fa`: an operator turns password sign-in back on
/// for someone who lost their passkeys (audited). False if it was on.
pub fn reset_password_off(c: &mut Conn, user: &User) -> AppResult<bool> {
    db::write_tx(c, |c| {
        let changed = users::set_password_off(c, &user.id, None)?;
        if changed {
            audit::record(
                c,
                None,
                Actor::System,
                AuditAction::PasswordSignInOn,
                &user.id,
                format!("{} (reset by an operator)", user.email),
            )?;
        }
        Ok(changed)
    })
}

/// Starts a proof with one of a known person's own passkeys (the login's
/// second step, bound to its pending login; **Confirm it's you**, bound to
/// the session): the options name only their credentials.
pub fn start_proof(
    c: &mut Conn,
    cfg: &Config,
    user: &UserId,
    purpose: PasskeyPurpose,
    bound_to: &str,
) -> AppResult<Ceremony> {
    let wa = webauthn(cfg)?;
    let keys = passkeys::for_user(c, user)?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.credential).ok())
        .collect::<Vec<_>>();
    if keys.is_empty() {
        return Err(AppError::invalid("You have no passkey."));
    }
    let (rcr, state) = wa
        .start_passkey_authentication(&keys)
        .map_err(|e| AppError::internal(format!("webauthn: {e}")))?;
    let options = serde_json::to_value(&rcr).map_err(|e| AppError::internal(e.to_string()))?;
    let id = crypto::random_token(crypto::SECRET_BYTES);
    store(
        c,
        PasskeyChallenge {
            id: id.clone(),
            purpose,
            bound_to: bound_to.to_string(),
            user_id: Some(user.clone()),
            name: String::new(),
            state: serde_json::to_string(&state).map_err(|e| AppError::internal(e.to_string()))?,
            expires_at: now() + CHALLENGE_TTL_S,
        },
    )?;
    Ok(Ceremony { id, options })
}

/// A proof's answer as posted.
pub struct ProofAnswer {
    pub challenge: String,
    pub credential: Value,
}

/// Checks the answer to `start_proof` (S95): the challenge is taken first
/// (once, within five minutes, bound as it was started, for this person);
/// the credential must be one of *this person's* passkeys and verify.
/// `Ok(false)` for an assertion that fails (another person's passkey, a bad
/// signature, a counter gone back), which the caller counts as a wrong
/// code; an `Err` for a used, expired or foreign challenge.
pub fn check_proof(
    c: &mut Conn,
    cfg: &Config,
    user: &User,
    purpose: PasskeyPurpose,
    bound_to: &str,
    answer: &ProofAnswer,
) -> AppResult<bool> {
    let wa = webauthn(cfg)?;
    let ch = take(c, &answer.challenge, purpose, bound_to)?;
    if ch.user_id.as_ref() != Some(&user.id) {
        return Err(AppError::invalid("This passkey request is not yours."));
    }
    let state: PasskeyAuthentication =
        serde_json::from_str(&ch.state).map_err(|e| AppError::internal(e.to_string()))?;
    let cred: PublicKeyCredential = serde_json::from_value(answer.credential.clone())
        .map_err(|e| invalid_json("passkey's answer", e))?;
    let row = passkeys::by_cred_id(c, &b64url(cred.get_credential_id()))?;
    let Some(row) = row.filter(|r| r.user_id == user.id) else {
        tracing::info!(user = %user.id, "a passkey proof with someone else's or an unknown passkey");
        return Ok(false);
    };
    let res = match wa.finish_passkey_authentication(&cred, &state) {
        Ok(res) => res,
        Err(e) => {
            tracing::info!(user = %user.id, error = %e, "passkey proof refused");
            return Ok(false);
        }
    };
    let mut key: Passkey =
        serde_json::from_str(&row.credential).map_err(|e| AppError::internal(e.to_string()))?;
    key.update_credential(&res);
    let stored = serde_json::to_string(&key).map_err(|e| AppError::internal(e.to_string()))?;
    db::write_tx(c, |c| {
        passkeys::record_use(c, &row.id, &stored, i64::from(res.counter()), now())?;
        Ok(())
    })?;
    Ok(true)
}

/// Starts a sign-in with a discoverable passkey, bound to the login page
/// (`bound_to`: the hash of its CSRF cookie).
pub fn start_login(c: &mut Conn, cfg: &Config, bound_to: &str) -> AppResult<Ceremony> {
    let wa = webauthn(cfg)?;
    let (rcr, state) = wa
        .start_discoverable_authentication()
        .map_err(|e| AppError::internal(format!("webauthn: {e}")))?;
    let options = serde_json::to_value(&rcr).map_err(|e| AppError::internal(e.to_string()))?;
    let id = crypto::random_token(crypto::SECRET_BYTES);
    store(
        c,
        PasskeyChallenge {
            id: id.clone(),
            purpose: PasskeyPurpose::Login,
            bound_to: bound_to.to_string(),
            user_id: None,
            name: String::new(),
            state: serde_json::to_string(&state).map_err(|e| AppError::internal(e.to_string()))?,
            expires_at: now() + CHALLENGE_TTL_S,
        },
    )?;
    Ok(Ceremony { id, options })
}

/// A passkey sign-in as posted.
pub struct PasskeyLogin {
    pub challenge: String,
    pub credential: Value,
    pub ip: String,
    /// The hash of the login page's CSRF cookie the challenge is bound to.
    pub bound_to: String,
    /// The hash of the session id the browser already had (`LoginAttempt`).
    pub replaces: Option<String>,
}

/// Signs in with a passkey: one unit of the address's login throttle is
/// taken first and kept if the sign-in fails (and one of the account's,
/// once the passkey names it), as for a wrong password; on success the
/// credential's counter and last use are stored and a session starts
/// (`accounts::open_session`). Answers the user and the cookie value.
pub async fn sign_in(
    pool: &Pool,
    config: &Config,
    login: PasskeyLogin,
) -> AppResult<(User, String)> {
    let cfg = config.clone();
    db::run(pool, move |c| {
        let sec = &cfg.security;
        let t = now();
        let key = accounts::ip_key(&login.ip);
        let got = throttle::take(c, &key, t, sec.login_window_s)?;
        if i64::from(got.failures) > i64::from(sec.login_max_failures_per_ip) {
            throttle::give_back(c, &key, got.window_start)?;
            return Err(AppError::Throttled(
                (got.window_start + sec.login_window_s - t).max(1),
            ));
        }
        let (user, value) = verify(c, &cfg, &login)?;
        throttle::give_back(c, &key, got.window_start)?;
        throttle::clear(c, &accounts::account_key(&user.email))?;
        Ok((user, value))
    })
    .await
}

/// The failure's refusal, after counting it against the account too.
fn refuse(c: &mut Conn, sec: &SecurityConfig, user: Option<&User>, why: &str) -> AppError {
    if let Some(u) = user {
        let counted = throttle::take(
            c,
            &accounts::account_key(&u.email),
            now(),
            sec.login_window_s,
        );
        if let Err(e) = counted {
            return e.into();
        }
    }
    AppError::Forbidden(why.to_string())
}

fn verify(c: &mut Conn, cfg: &Config, login: &PasskeyLogin) -> AppResult<(User, String)> {
    let sec = &cfg.security;
    let wa = webauthn(cfg)?;
    let ch = take(c, &login.challenge, PasskeyPurpose::Login, &login.bound_to)?;
    let state = serde_json::from_str(&ch.state).map_err(|e| AppError::internal(e.to_string()))?;
    let answer: PublicKeyCredential = serde_json::from_value(login.credential.clone())
        .map_err(|e| invalid_json("passkey's answer", e))?;
    let unknown = "This passkey is not registered here. Sign in with your password.";
    let Some(row) = passkeys::by_cred_id(c, &b64url(answer.get_credential_id()))? else {
        return Err(refuse(c, sec, None, unknown));
    };
    let Some(user) = users::by_id(c, &row.user_id)? else {
        return Err(refuse(c, sec, None, unknown));
    };
    // A user handle, where the authenticator sends one, must be its owner's.
    if let Some(h) = answer.get_user_unique_id() {
        if h != handle(&user.id)?.as_bytes() {
            return Err(refuse(c, sec, Some(&user), unknown));
        }
    }
    let mut key: Passkey =
        serde_json::from_str(&row.credential).map_err(|e| AppError::internal(e.to_string()))?;
    let res = match wa.finish_discoverable_authentication_v2(&answer, state, &key) {
        Ok(res) => res,
        Err(e) => {
            let cloned = matches!(
                e,
                webauthn_rs::prelude::WebauthnError::CredentialPossibleCompromise
            );
            if cloned {
                let why = format!("{} (its signature counter went backwards)", row.name);
                db::write_tx(c, |c| {
                    audit::record(
                        c,
                        None,
                        Actor::User(&user.id),
                        AuditAction::PasskeyRefused,
                        &row.id,
                        why,
                    )
                })?;
            }
            let why = match cloned {
                true => "This passkey was refused: its signature counter went backwards, as a copied passkey's does. Sign in with your password.",
                false => "This passkey could not be verified. Try again, or sign in with your password.",
            };
            tracing::info!(user = %user.id, error = %e, "passkey sign-in refused");
            return Err(refuse(c, sec, Some(&user), why));
        }
    };
    key.update_credential(&res);
    let stored = serde_json::to_string(&key).map_err(|e| AppError::internal(e.to_string()))?;
    db::write_tx(c, |c| {
        passkeys::record_use(c, &row.id, &stored, i64::from(res.counter()), now())?;
        audit::record(
            c,
            None,
            Actor::User(&user.id),
            AuditAction::PasskeySignIn,
            &row.id,
            row.name.clone(),
        )
    })?;
    let value = accounts::open_session(c, sec, &user, login.replaces.clone())?;
    Ok((user, value))
}
