//! The key material every instance shares, kept in the database and sealed
//! under one master key that never enters it: the ES256 signing keys
//! (`signing_keys`) and the secret box's key (`sealed_keys`, which seals the
//! internal-token copies and the API's cursors). The master key comes from
//! `PAGEGRANT_MASTER_KEY`, else `security.master_key_file` (by default
//! `master.key` in `server.data_dir`), and is generated there only while the
//! database holds no sealed key, so a second instance without it refuses to
//! start instead of sealing with a key of its own. Files of installs from
//! before this table (`secret.key`, `signing-key.pem`) are imported once.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db::models::now;
use crate::db::queries::keys as kq;
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::state::jwt::{self, Keys};

const SECRET_BOX: &str = "secret_box";
const LEGACY_SIGNING_KEY: &str = "signing-key.pem";

pub fn master_key_path(cfg: &Config) -> PathBuf {
    if cfg.security.master_key_file.trim().is_empty() {
        cfg.server.data_dir.join("master.key")
    } else {
        PathBuf::from(&cfg.security.master_key_file)
    }
}

fn legacy_signing_key(data_dir: &Path) -> AppResult<Option<String>> {
    let path = data_dir.join(LEGACY_SIGNING_KEY);
    if !path.exists() {
        return Ok(None);
    }
    std::fs::read_to_string(&path)
        .map(Some)
        .map_err(|e| AppError::internal(format!("reading {}: {e}", path.display())))
}

/// The secret box and the signing keys, making the first of each when the
/// database has none. Safe when instances start together: inserts never
/// overwrite, and everyone reads back what the database kept.
pub fn load(conn: &mut Conn, cfg: &Config) -> AppResult<(SecretBox, Keys)> {
    let fresh = !kq::any(conn)?;
    let master = SecretBox::master(&master_key_path(cfg), fresh)?;
    let t = now();
    if kq::sealed_key(conn, SECRET_BOX)?.is_none() {
        let key = match SecretBox::legacy_key(&cfg.server.data_dir)? {
            Some(k) => k,
            None => SecretBox::generate()?.1,
        };
        kq::insert_sealed_key(conn, SECRET_BOX, &master.encrypt(&key)?, t)?;
    }
    let sealed = kq::sealed_key(conn, SECRET_BOX)?
        .ok_or_else(|| AppError::internal("the secret box key vanished"))?;
    let key = master.decrypt(&sealed).map_err(|_| {
        AppError::invalid(
            "the database's keys do not open with this master key: every instance needs the same one",
        )
    })?;
    let secret_box = SecretBox::from_key_b64(&key, "the secret box key")?;
    if kq::signing_keys(conn)?.is_empty() {
        let pem = match legacy_signing_key(&cfg.server.data_dir)? {
            Some(p) => p,
            None => jwt::new_signing_key()?.1,
        };
        store_signing_key(conn, &master, &pem, t)?;
    }
    let keys = Keys::load(conn, master, &cfg.server.issuer)?;
    Ok((secret_box, keys))
}

fn store_signing_key(conn: &mut Conn, master: &SecretBox, pem: &str, at: i64) -> AppResult<String> {
    let kid = Keys::kid_of(pem)?;
    kq::insert_signing_key(conn, &kid, &master.encrypt(pem)?, at)?;
    Ok(kid)
}

/// `pagegrant keys rotate`: a new signing key, which signs from now on (each
/// instance picks it up within 30 seconds, at once for tokens it meets);
/// earlier keys stay in the JWKS, so their tokens verify until they expire.
pub fn rotate(conn: &mut Conn, cfg: &Config) -> AppResult<String> {
    load(conn, cfg)?;
    let master = SecretBox::master(&master_key_path(cfg), false)?;
    let (_, pem) = jwt::new_signing_key()?;
    // Strictly newer than every key already there, whatever the clock says.
    let newest = kq::signing_keys(conn)?
        .iter()
        .map(|(_, _, at)| *at)
        .max()
        .unwrap_or(0);
    db::write_tx(conn, |c| {
        store_signing_key(c, &master, &pem, now().max(newest + 1))
    })
}

/// The kids in the database, oldest first, and which one signs.
pub fn list(conn: &mut Conn) -> AppResult<Vec<(String, i64)>> {
    Ok(kq::signing_keys(conn)?
        .into_iter()
        .map(|(kid, _, at)| (kid, at))
        .collect())
}
