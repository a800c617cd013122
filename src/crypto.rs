//! Secrets and their storage: OS randomness, SHA-256 for random secrets,
//! argon2id for passwords, AES-GCM for the internal-token copies owners may
//! retrieve. No other module touches key material directly.

use std::path::Path;
use std::sync::{LazyLock, OnceLock};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::rand_core::OsRng as PhOsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use prometheus::{IntCounter, Opts};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AppError, AppResult};

/// Bytes in codes, refresh tokens, internal tokens and client secrets (256 bits).
pub const SECRET_BYTES: usize = 32;
/// Bytes in session ids and JWT ids (128 bits is the floor; we use 256).
pub const SESSION_BYTES: usize = 32;

/// `n` bytes from the OS random source, base64url without padding: an
/// unreserved alphabet, so form-encoding changes nothing.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    B64.encode(&buf)
}

/// `n` bytes from the OS random source.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    buf
}

/// A 256-bit secret (client secret, code, refresh or internal token body).
pub fn random_secret() -> String {
    random_token(SECRET_BYTES)
}

/// A session id (the cookie's value; stored only as its SHA-256).
pub fn new_session_id() -> String {
    random_token(SESSION_BYTES)
}

/// A JWT id (`jti`).
/// An access token's id: the milliseconds since the epoch in 12 hex digits,
/// then 128 random bits (S55). The time prefix orders them, so each insert
/// lands at the end of the key's B-tree instead of on a random page.
pub fn new_jti() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "{:012x}{}",
        ms & 0xffff_ffff_ffff,
        random_token(SESSION_BYTES)
    )
}

/// A time-ordered unique id (UUIDv7), for keys that are inserted often.
pub fn new_ordered_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// SHA-256, hex: how random secrets are stored and looked up.
pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut PhOsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

/// Password checks run, known account or not. Exported in `/metrics` as
/// `pagegrant_password_checks_total` (the registry adds the prefix), so a
/// test can see argon2 run for an unknown user too. One series with no label:
/// a label by kind of hash (the user's or the dummy one) told any scraper
/// whether a failed login named an existing account (issue 15 #2). `None`
/// only if prometheus rejected the constant options below, which are valid;
/// `Metrics::new` then fails, so the counter cannot go missing unnoticed.
pub static PASSWORD_CHECKS: LazyLock<Option<IntCounter>> = LazyLock::new(|| {
    IntCounter::with_opts(Opts::new(
        "password_checks_total",
        "Password checks, for known and unknown accounts alike.",
    ))
    .ok()
});

/// Checks `password` against `stored`; with no stored hash (unknown user) a
/// dummy hash is verified instead, so both cases cost the same.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("pagegrant-dummy-password").unwrap_or_default());
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    if let Some(checks) = &*PASSWORD_CHECKS {
        checks.inc();
    }
    let ok = match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    };
    ok && real
}

/// AES-256-GCM under a key kept in `server.data_dir`.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<hidden>)")
    }
}

/// Where installs before the shared key table kept the secret-box key.
pub const LEGACY_KEY_FILE: &str = "secret.key";
/// The environment variable that may carry the master key itself.
pub const MASTER_KEY_ENV: &str = "PAGEGRANT_MASTER_KEY";

impl SecretBox {
    /// A box over a base64url 256-bit key; `what` names it in errors.
    pub fn from_key_b64(key_b64: &str, what: &str) -> AppResult<SecretBox> {
        let raw = B64
            .decode(key_b64.trim())
            .map_err(|_| AppError::internal(format!("{what} is not a base64url key")))?;
        let cipher = Aes256Gcm::new_from_slice(&raw)
            .map_err(|_| AppError::internal(format!("{what} does not hold a 256-bit key")))?;
        Ok(SecretBox { cipher })
    }

    /// A new random key: the box and the key's base64url form.
    pub fn generate() -> AppResult<(SecretBox, String)> {
        let key = random_token(32);
        Ok((SecretBox::from_key_b64(&key, "a new key")?, key))
    }

    /// The master key: `PAGEGRANT_MASTER_KEY` when set, else the file at
    /// `path`, created (mode 0600) when `may_create` and missing.
    pub fn master(path: &Path, may_create: bool) -> AppResult<SecretBox> {
        if let Ok(v) = std::env::var(MASTER_KEY_ENV) {
            if !v.trim().is_empty() {
                return SecretBox::from_key_b64(&v, MASTER_KEY_ENV);
            }
        }
        if path.exists() {
            let key = std::fs::read_to_string(path)
                .map_err(|e| AppError::internal(format!("reading {}: {e}", path.display())))?;
            return SecretBox::from_key_b64(&key, &path.display().to_string());
        }
        if !may_create {
            return Err(AppError::invalid(format!(
                "the database's keys are sealed under a master key, and this instance has none: \
                 copy the master key file to {} (security.master_key_file) or set {MASTER_KEY_ENV}",
                path.display()
            )));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::internal(format!("creating {}: {e}", dir.display())))?;
        }
        let (b, key) = SecretBox::generate()?;
        write_private(path, &key)?;
        Ok(b)
    }

    /// The key of an install from before the shared key table, if present.
    pub fn legacy_key(data_dir: &Path) -> AppResult<Option<String>> {
        let path = data_dir.join(LEGACY_KEY_FILE);
        if !path.exists() {
            return Ok(None);
        }
        std::fs::read_to_string(&path)
            .map(|k| Some(k.trim().to_string()))
            .map_err(|e| AppError::internal(format!("reading {}: {e}", path.display())))
    }

    pub fn encrypt(&self, plain: &str) -> AppResult<String> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| AppError::internal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(B64.encode(out))
    }

    pub fn decrypt(&self, sealed: &str) -> AppResult<String> {
        let raw = B64
            .decode(sealed)
            .map_err(|_| AppError::internal("sealed value is not base64url"))?;
        if raw.len() < 12 {
            return Err(AppError::internal("sealed value too short"));
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| AppError::internal("decryption failed (wrong key?)"))?;
        String::from_utf8(plain).map_err(|_| AppError::internal("sealed value is not UTF-8"))
    }
}

pub fn write_private(path: &Path, contents: &str) -> AppResult<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| AppError::internal(format!("creating {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| AppError::internal(format!("writing {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// S55: codes, refresh and internal tokens and client secrets all come
    /// from `random_secret`.
    #[test]
    fn secrets_are_256_bit_unreserved_and_distinct_s55() {
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let s = random_secret();
            assert_eq!(s.len(), 43);
            assert!(s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(seen.insert(s));
        }
    }

    /// S55: 100,000 from each generator, no repeats, at least 128 bits.
    #[test]
    fn session_ids_and_jtis_are_distinct_s55() {
        for (what, gen) in [
            ("session id", new_session_id as fn() -> String),
            ("jti", new_jti),
        ] {
            let mut seen = HashSet::new();
            for _ in 0..100_000 {
                let s = gen();
                assert!(s.len() >= 22, "{what}: at least 128 bits");
                assert!(seen.insert(s), "{what} repeated");
            }
        }
    }

    #[test]
    fn password_roundtrip_and_dummy() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(Some(&h), "correct horse"));
        assert!(!verify_password(Some(&h), "wrong"));
        assert!(!verify_password(None, "pagegrant-dummy-password"));
    }

    #[test]
    fn secret_box_roundtrip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let b = SecretBox::master(&dir.path().join("master.key"), true).expect("box");
        let sealed = b.encrypt("ntn_secret").expect("enc");
        assert!(!sealed.contains("ntn_secret"));
        let again = SecretBox::master(&dir.path().join("master.key"), false).expect("reload");
        assert_eq!(again.decrypt(&sealed).expect("dec"), "ntn_secret");
    }
}
