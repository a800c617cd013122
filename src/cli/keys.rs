//! `keys rotate` and `keys list`: the token-signing keys.

use serde_json::json;

use super::args::emit;
use crate::config::Config;
use crate::db::Conn;
use crate::error::AppResult;
use crate::state::keys;

/// `keys rotate`: adds a signing key, which signs from now on.
pub(super) fn rotate(c: &mut Conn, config: &Config, json: bool) -> AppResult<()> {
    let kid = keys::rotate(c, config)?;
    emit(
        json,
        json!({"id": kid, "kid": kid}),
        &[format!(
            "Added signing key {kid}; it signs new tokens from now on (running instances switch within 30 s), and earlier keys keep verifying."
        )],
    );
    Ok(())
}

/// `keys list`: the keys in the JWKS, oldest first; the newest signs.
pub(super) fn list(c: &mut Conn, config: &Config, json: bool) -> AppResult<()> {
    keys::load(c, config)?;
    let all = keys::list(c)?;
    let signing = all.last().map(|(k, _)| k.clone()).unwrap_or_default();
    let listed: Vec<_> = all
        .iter()
        .map(|(k, at)| json!({"kid": k, "created_at": at}))
        .collect();
    let human: Vec<_> = all
        .iter()
        .map(|(k, at)| {
            let signs = if *k == signing { "  (signs)" } else { "" };
            format!("{k}  created {at}{signs}")
        })
        .collect();
    emit(
        json,
        json!({"id": signing, "kid": signing, "keys": listed}),
        &human,
    );
    Ok(())
}
