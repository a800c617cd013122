//! Brute-force throttling at the token, introspection and revocation
//! endpoints (S54). Wrong client secrets count per client and per address;
//! unknown codes, refresh tokens and tokens count per authenticated client.
//! Past a limit, the endpoint answers 429 with `Retry-After` before looking
//! at the credentials or the token, so a guess cannot succeed however good it
//! is. Counters live in the database (`auth_failures`) like the login ones,
//! so every instance shares them.

use crate::config::SecurityConfig;
use crate::db::models::{now, Integration};
use crate::db::queries::{integrations, throttle};
use crate::db::Conn;
use crate::error::AppResult;
use crate::http::errors::OAuthError;
use crate::oauth::client::{self, Presented};

fn client_key(client_id: &str) -> String {
    format!("oauth:client:{client_id}")
}

fn ip_key(ip: &str) -> String {
    format!("oauth:ip:{ip}")
}

fn guess_key(client: &Integration) -> String {
    format!("oauth:guess:{}", client.id)
}

/// Seconds until the first exhausted counter among `keys` reopens, if any is.
fn exhausted(
    c: &mut Conn,
    keys: &[(String, u32)],
    t: i64,
    window_s: i64,
) -> AppResult<Option<i64>> {
    for (key, limit) in keys {
        if let Some((failures, start)) = throttle::current(c, key, t, window_s)? {
            if i64::from(failures) >= i64::from(*limit) {
                return Ok(Some((start + window_s - t).max(1)));
            }
        }
    }
    Ok(None)
}

/// Client authentication behind the throttle: refused with 429 once the
/// client id or the address has used up its failures in the window.
pub fn authenticate(
    c: &mut Conn,
    cfg: &SecurityConfig,
    who: &Presented,
    ip: &str,
) -> AppResult<Result<Integration, OAuthError>> {
    let t = now();
    let keys = [
        (client_key(&who.client_id), cfg.client_max_failures),
        (ip_key(ip), cfg.client_max_failures_per_ip),
    ];
    if let Some(wait) = exhausted(c, &keys, t, cfg.client_window_s)? {
        return Ok(Err(OAuthError::throttled(wait)));
    }
    match client::authenticate(c, who)? {
        Ok(i) => Ok(Ok(i)),
        Err(e) => {
            throttle::record_failure(c, &keys[1].0, t, cfg.client_window_s)?;
            // Made-up client ids count against the address only, so random
            // ids cannot grow the table.
            if integrations::by_client_id(c, &who.client_id)?.is_some() {
                throttle::record_failure(c, &keys[0].0, t, cfg.client_window_s)?;
            }
            Ok(Err(e))
        }
    }
}

/// 429 when `client` has sent too many unknown codes or tokens in the window.
pub fn check_guesses(
    c: &mut Conn,
    cfg: &SecurityConfig,
    client: &Integration,
) -> AppResult<Option<OAuthError>> {
    let keys = [(guess_key(client), cfg.token_max_failures_per_client)];
    Ok(exhausted(c, &keys, now(), cfg.client_window_s)?.map(OAuthError::throttled))
}

/// Counts one unknown code or token sent by `client`.
pub fn record_guess(c: &mut Conn, cfg: &SecurityConfig, client: &Integration) -> AppResult<()> {
    throttle::record_failure(c, &guess_key(client), now(), cfg.client_window_s)?;
    Ok(())
}
