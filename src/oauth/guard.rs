//! Brute-force throttling at the token, introspection and revocation
//! endpoints (S54), without handing anyone a way to lock a client out.
//!
//! Unauthenticated failures (a wrong secret, an unknown client, and anything
//! a public client sends, since anyone can send its `client_id`) count per
//! (client, address) and per address, never per client alone: nobody without
//! a client's secret can make the endpoint refuse that client's requests
//! from other addresses. Unknown codes and tokens sent by a confidential
//! client that proved its secret count per client.
//!
//! Each check runs in a write transaction that makes parallel checks of the
//! same counter take turns (`authenticate`): past a limit the endpoint
//! answers 429 with `Retry-After` before looking at the credentials or the
//! token, so however many requests run in parallel, no more than the limit
//! are ever checked, and a guess cannot succeed however good it is. Only a
//! failure writes its count; a request that proves the credentials writes
//! nothing.
//! Counters live in the database (`auth_failures`) like the login ones, so
//! every instance shares them.

use crate::config::SecurityConfig;
use crate::db::models::{now, ClientType, Integration};
use crate::db::queries::{integrations, throttle};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::oauth::client::{self, Presented};

fn pair_key(client_id: &str, ip: &str) -> String {
    format!("oauth:client:{client_id}:ip:{ip}")
}

fn ip_key(ip: &str) -> String {
    format!("oauth:ip:{ip}")
}

/// A confidential client's guesses are its own (only its secret's holders
/// can spend them); a public client's are whoever sends its id, so they
/// count per address too.
fn guess_keys(cfg: &SecurityConfig, client: &Integration, ip: &str) -> Vec<(String, u32)> {
    match client.client_type {
        ClientType::Confidential => vec![(
            format!("oauth:guess:{}", client.id),
            cfg.token_max_failures_per_client,
        )],
        ClientType::Public => vec![
            (
                format!("oauth:guess:{}:ip:{ip}", client.id),
                cfg.token_max_failures_per_client,
            ),
            (ip_key(ip), cfg.client_max_failures_per_ip),
        ],
    }
}

/// Client authentication behind the throttle: refused with 429 once the
/// address, or this client from this address, has used up its failures in
/// the window, and past its guess budget (`record_guess`) once it has
/// proved itself. One write transaction: the counters are read under the
/// database's write lock (SQLite) or a lock on each key (PostgreSQL; the
/// keys locked in one statement and read in one more), so
/// parallel requests are judged one after another and no more than the
/// limit are ever checked; only a failure writes (a success, the usual
/// case, leaves nothing to commit). The failure's count commits with the
/// refusal (`write_tx_refusing`).
pub fn authenticate(
    c: &mut Conn,
    cfg: &SecurityConfig,
    who: &Presented,
    ip: &str,
) -> AppResult<Integration> {
    db::write_tx_refusing(c, |c| authenticate_in(c, cfg, who, ip))
}

/// `authenticate` inside a transaction the caller holds, which keeps a
/// refusal's writes and rolls back on any other error (the token
/// endpoint's `db::write_tx_refusing_or_held`). It must be a transaction:
/// the advisory locks on PostgreSQL last until it ends.
pub fn authenticate_in(
    c: &mut Conn,
    cfg: &SecurityConfig,
    who: &Presented,
    ip: &str,
) -> AppResult<Integration> {
    let t = now();
    let window_s = cfg.client_window_s;
    let mut keys = vec![(ip_key(ip), cfg.client_max_failures_per_ip)];
    // Made-up client ids count against the address only, so random ids
    // cannot grow the table.
    let found = integrations::by_client_id(c, &who.client_id)?;
    if found.is_some() {
        keys.push((pair_key(&who.client_id, ip), cfg.client_max_failures));
    }
    // The client's guess budget is checked once it has proved itself; its
    // counters are read now, with the others, in the same statement.
    let guesses = found
        .as_ref()
        .map(|i| guess_keys(cfg, i, ip))
        .unwrap_or_default();
    let locked: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    db::lock_keys(c, &locked)?;
    let mut named = locked.clone();
    named.extend(guesses.iter().map(|(k, _)| k.as_str()));
    named.sort_unstable();
    named.dedup();
    let open = throttle::open_windows(c, &named, t, window_s)?;
    over_limit(&open, &keys, t, window_s)?;
    match client::authenticate_as(found, who) {
        Ok(i) => {
            over_limit(&open, &guesses, t, window_s)?;
            Ok(i)
        }
        Err(e @ AppError::Refused(_)) => {
            let mut opened = false;
            for (key, _) in &keys {
                opened |= throttle::take(c, key, t, window_s)?.failures == 1;
            }
            // A failure that opened a window purges the closed ones, so
            // only failures pay for the purge.
            if opened {
                throttle::purge_closed(c, t, cfg.longest_window_s())?;
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// 429, with how long until the window closes, when any of `limits` has
/// used up its failures in the windows read (`open`).
fn over_limit(
    open: &[throttle::OpenWindow],
    limits: &[(String, u32)],
    t: i64,
    window_s: i64,
) -> AppResult<()> {
    for (key, limit) in limits {
        if let Some(w) = open.iter().find(|w| &w.key == key) {
            if i64::from(w.failures) >= i64::from(*limit) {
                return Err(AppError::Throttled((w.window_start + window_s - t).max(1)));
            }
        }
    }
    Ok(())
}

/// Counts one unknown code or token sent by `client` from `ip`.
pub fn record_guess(
    c: &mut Conn,
    cfg: &SecurityConfig,
    client: &Integration,
    ip: &str,
) -> AppResult<()> {
    let t = now();
    for (key, _) in guess_keys(cfg, client, ip) {
        if throttle::take(c, &key, t, cfg.client_window_s)?.failures == 1 {
            throttle::purge_closed(c, t, cfg.longest_window_s())?;
        }
    }
    Ok(())
}
