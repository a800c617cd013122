//! RFC 9068 access tokens: ES256 keys kept in the database (`signing_keys`,
//! private halves sealed under the master key, see `crate::state::keys`), the JWKS
//! that publishes every one of them, and signing and verification through
//! `ring` (assembly-optimised P-256, already in the build for rustls; see
//! `sign_now` for why not jsonwebtoken's backends). The newest key signs;
//! any key in the set verifies, so a
//! rotation (`pagegrant keys rotate`) leaves earlier tokens valid until they
//! expire. Instances re-read the set every 30 seconds, and at once (at most
//! once a second) when a token names a `kid` they do not know, so a key
//! added by another instance is honoured everywhere.
//! Verification accepts only ES256 with a known `kid` and `typ: at+jwt`, so
//! `none`, HS256-with-the-public-key and foreign keys fail before any claim
//! is read.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use quick_cache::sync::Cache;
use ring::signature::{
    EcdsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::SecretBox;
use crate::db::queries::keys as kq;
use crate::db::Conn;
use crate::error::{AppError, AppResult};

pub const TYP: &str = "at+jwt";
/// How stale the key set may grow before signing re-reads it.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// How often an unknown `kid` may trigger a re-read.
const MISS_RELOAD_EVERY: Duration = Duration::from_secs(1);
/// Verified tokens remembered, so a token seen again skips the ECDSA check.
const VERIFIED_CACHE: usize = 16_384;

/// The claims of an access token (RFC 9068 §2.2 plus Notion's workspace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub workspace_id: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub scope: String,
    /// The token family the access token belongs to, so the bearer check
    /// reads the family's row (is it revoked, whose connection) and a grant
    /// writes no access-token row (issue 30). Empty in tokens signed before
    /// the claim existed: those are found by `jti` in `access_tokens`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fam: String,
}

struct Entry {
    kid: String,
    /// Parsed once (jsonwebtoken's backends re-parse PKCS#8 and re-derive
    /// the public key on every `encode`).
    signer: EcdsaKeyPair,
    /// The public key as an uncompressed SEC1 point, for verification.
    public: Vec<u8>,
    jwk: serde_json::Value,
}

/// The JOSE header members verification looks at.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
}

struct Set {
    /// Oldest first: the last one signs.
    entries: Vec<Entry>,
    loaded: Instant,
}

pub struct Keys {
    set: RwLock<Arc<Set>>,
    /// Unseals the private halves read from the database; `None` for a set
    /// that lives only in memory (a foreign key, in tests).
    master: Option<SecretBox>,
    issuer: String,
    last_miss_reload: Mutex<Option<Instant>>,
    rng: ring::rand::SystemRandom,
    /// SHA-256 of a token whose signature and claims verified → its claims.
    /// It saves only the signature check: expiry is checked on every use,
    /// and callers look up the token's row (revocation) in the database each
    /// time, so a revoke still takes effect at once. Bounded: once full, the
    /// least useful entries are evicted.
    verified: Cache<[u8; 32], Claims>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("signing_kid", &self.signing_kid())
            .finish()
    }
}

/// A new P-256 private key as PKCS#8 PEM, and its `kid`.
pub fn new_signing_key() -> AppResult<(String, String)> {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| AppError::internal("encoding the signing key"))?;
    let entry = entry_from_pem(pem.as_str())?;
    Ok((entry.kid, pem.to_string()))
}

/// The key, its JWK and its RFC 7638 thumbprint as `kid`.
fn entry_from_pem(pem: &str) -> AppResult<Entry> {
    let secret = p256::SecretKey::from_pkcs8_pem(pem)
        .map_err(|_| AppError::internal("a signing key is not a PKCS#8 P-256 key"))?;
    let point =
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
    let signer = EcdsaKeyPair::from_private_key_and_public_key(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        secret.to_bytes().as_slice(),
        point.as_bytes(),
        &ring::rand::SystemRandom::new(),
    )
    .map_err(|_| AppError::internal("a signing key is not a usable P-256 key"))?;
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(AppError::internal("signing key has no affine coordinates"));
    };
    let (x, y) = (B64.encode(x), B64.encode(y));
    // RFC 7638 thumbprint: SHA-256 over the required members in lexical order.
    let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = B64.encode(Sha256::digest(thumb_input.as_bytes()));
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "P-256", "x": x, "y": y,
        "kid": kid, "use": "sig", "alg": "ES256"
    });
    Ok(Entry {
        kid,
        signer,
        public: point.as_bytes().to_vec(),
        jwk,
    })
}

fn read_set(conn: &mut Conn, master: &SecretBox) -> AppResult<Set> {
    let mut entries = Vec::new();
    for (kid, sealed, _) in kq::signing_keys(conn)? {
        let pem = master.decrypt(&sealed).map_err(|_| {
            AppError::internal(format!(
                "signing key {kid} does not open with this master key (is it the same on every instance?)"
            ))
        })?;
        entries.push(entry_from_pem(&pem)?);
    }
    if entries.is_empty() {
        return Err(AppError::internal("the database holds no signing key"));
    }
    Ok(Set {
        entries,
        loaded: Instant::now(),
    })
}

impl Keys {
    /// Every signing key in the database (there must be one; `crate::state::keys`
    /// makes the first).
    pub fn load(conn: &mut Conn, master: SecretBox, issuer: &str) -> AppResult<Keys> {
        let set = read_set(conn, &master)?;
        Ok(Keys {
            set: RwLock::new(Arc::new(set)),
            master: Some(master),
            issuer: issuer.to_string(),
            last_miss_reload: Mutex::new(None),
            rng: ring::rand::SystemRandom::new(),
            verified: Cache::new(VERIFIED_CACHE),
        })
    }

    /// A key set of one new key that lives only in memory: a foreign signer.
    pub fn ephemeral(issuer: &str) -> AppResult<Keys> {
        let (_, pem) = new_signing_key()?;
        Ok(Keys {
            set: RwLock::new(Arc::new(Set {
                entries: vec![entry_from_pem(&pem)?],
                loaded: Instant::now(),
            })),
            master: None,
            issuer: issuer.to_string(),
            last_miss_reload: Mutex::new(None),
            rng: ring::rand::SystemRandom::new(),
            verified: Cache::new(VERIFIED_CACHE),
        })
    }

    fn current(&self) -> Arc<Set> {
        match self.set.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The `kid` of a PKCS#8 PEM private key.
    pub fn kid_of(pem: &str) -> AppResult<String> {
        Ok(entry_from_pem(pem)?.kid)
    }

    /// Re-reads the key set from the database.
    pub fn reload(&self, conn: &mut Conn) -> AppResult<()> {
        let Some(master) = &self.master else {
            return Ok(());
        };
        let set = Arc::new(read_set(conn, master)?);
        match self.set.write() {
            Ok(mut g) => *g = set,
            Err(p) => *p.into_inner() = set,
        }
        Ok(())
    }

    /// Re-reads the set when it is older than 30 seconds.
    pub fn refresh_if_stale(&self, conn: &mut Conn) -> AppResult<()> {
        if self.stale() {
            self.reload(conn)?;
        }
        Ok(())
    }

    /// Whether the set is due to be re-read from the database.
    pub fn stale(&self) -> bool {
        self.master.is_some() && self.current().loaded.elapsed() > REFRESH_EVERY
    }

    pub fn signing_kid(&self) -> String {
        self.current()
            .entries
            .last()
            .map(|e| e.kid.clone())
            .unwrap_or_default()
    }

    pub fn jwks(&self) -> serde_json::Value {
        let set = self.current();
        let keys: Vec<&serde_json::Value> = set.entries.iter().rev().map(|e| &e.jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// The audience of access tokens for this server's API (the default
    /// resource; `/mcp` tokens have their own, RFC 8707).
    pub fn audience(&self) -> String {
        crate::domain::resource::api(&self.issuer)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs with the newest key, re-reading the set first when it is stale.
    pub fn sign(&self, conn: &mut Conn, claims: &Claims) -> AppResult<String> {
        self.refresh_if_stale(conn)?;
        self.sign_now(claims)
    }

    /// Signs with the newest key this instance holds.
    pub fn sign_now(&self, claims: &Claims) -> AppResult<String> {
        let set = self.current();
        let Some(e) = set.entries.last() else {
            return Err(AppError::internal("no signing key"));
        };
        // JWS compact serialisation (RFC 7515) with ES256: the signature is
        // r || s, 64 bytes (RFC 7518 §3.4). Built here rather than by
        // jsonwebtoken: its `rust_crypto` backend (p256) signs ~6x slower
        // than ring's assembly, and its `aws_lc_rs` backend would add a
        // second C crypto library beside ring and re-parse the key per call.
        let header = serde_json::json!({"alg": "ES256", "typ": TYP, "kid": e.kid});
        let payload = serde_json::to_vec(claims)
            .map_err(|err| AppError::internal(format!("claims: {err}")))?;
        let mut out = B64.encode(header.to_string());
        out.push('.');
        out.push_str(&B64.encode(payload));
        let sig = e
            .signer
            .sign(&self.rng, out.as_bytes())
            .map_err(|_| AppError::internal("signing failed"))?;
        let sig = p256::ecdsa::Signature::from_slice(sig.as_ref())
            .map_err(|_| AppError::internal("signature is not r || s"))?;
        // Low-S only (BIP 62): `n − s` would verify too, and verification
        // refuses it, so each token has exactly one string.
        let sig = sig.normalize_s().unwrap_or(sig);
        out.push('.');
        out.push_str(&B64.encode(sig.to_bytes()));
        Ok(out)
    }

    /// Verifies signature, header, issuer, audience and expiry; `None` for any
    /// token that is not one of ours and live.
    pub fn verify(&self, conn: &mut Conn, token: &str) -> Option<Claims> {
        self.verify_inner(Some(conn), token, true)
    }

    /// Like `verify`, but an expired token still counts (revocation).
    pub fn verify_ignoring_expiry(&self, conn: &mut Conn, token: &str) -> Option<Claims> {
        self.verify_inner(Some(conn), token, false)
    }

    /// `verify` against the keys held now, without the database.
    pub fn verify_offline(&self, token: &str) -> Option<Claims> {
        self.verify_inner(None, token, true)
    }

    fn verify_inner(
        &self,
        conn: Option<&mut Conn>,
        token: &str,
        check_exp: bool,
    ) -> Option<Claims> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let claims = match self.verified.get(&digest) {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(conn, token)?;
                self.verified.insert(digest, claims.clone());
                claims
            }
        };
        (!check_exp || live(&claims)).then_some(claims)
    }

    /// Signature, header, issuer and audience; expiry is `live`'s.
    fn verify_signature(&self, conn: Option<&mut Conn>, token: &str) -> Option<Claims> {
        let (signed, sig) = token.rsplit_once('.')?;
        let (header, payload) = signed.split_once('.')?;
        let sig = B64.decode(sig).ok()?;
        if !low_s(&sig) {
            return None;
        }
        let header: JoseHeader = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
        if header.alg != "ES256" || header.typ.as_deref() != Some(TYP) {
            return None;
        }
        let kid = header.kid?;
        let mut set = self.current();
        if !set.entries.iter().any(|e| e.kid == kid) {
            // Perhaps another instance rotated: re-read, at most once a second.
            let conn = conn?;
            let due = match self.last_miss_reload.lock() {
                Ok(mut last) => {
                    let due = last.is_none_or(|t| t.elapsed() >= MISS_RELOAD_EVERY);
                    if due {
                        *last = Some(Instant::now());
                    }
                    due
                }
                Err(_) => false,
            };
            if !due {
                return None;
            }
            if let Err(e) = self.reload(conn) {
                tracing::warn!(error = %e, "re-reading the signing keys failed");
                return None;
            }
            set = self.current();
        }
        let entry = set.entries.iter().find(|e| e.kid == kid)?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &entry.public)
            .verify(signed.as_bytes(), &sig)
            .ok()?;
        // Every claim of `Claims` is required (exp, iat, iss, aud, sub among
        // them): a token missing one does not parse. `aud` is one string, as
        // we issue it.
        let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        // Either resource (RFC 8707); each resource server checks its own
        // (`api::bearer` takes only the API's).
        let aud_ok = claims.aud == crate::domain::resource::api(&self.issuer)
            || claims.aud == crate::domain::resource::mcp(&self.issuer);
        (claims.iss == self.issuer && aud_ok).then_some(claims)
    }
}

/// Before `exp`, exactly (RFC 7519 §4.1.4): only this server verifies its
/// tokens, against its own clock, so there is no skew to allow for.
fn live(claims: &Claims) -> bool {
    claims.exp > chrono::Utc::now().timestamp()
}

/// Whether a JWS signature is a 64-byte ES256 `r || s` with a low `s`.
/// ECDSA accepts `(r, n − s)` wherever it accepts `(r, s)`; we sign low-S
/// only, so a high `s` is a rewritten token and is refused.
fn low_s(sig: &[u8]) -> bool {
    match p256::ecdsa::Signature::from_slice(sig) {
        Ok(sig) => sig.normalize_s().is_none(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(keys: &Keys, exp: i64) -> Claims {
        Claims {
            iss: "https://pg.example".into(),
            sub: "bot".into(),
            aud: keys.audience(),
            client_id: "c".into(),
            workspace_id: "w".into(),
            jti: "j".into(),
            iat: 0,
            exp,
            scope: "read_content".into(),
            fam: String::new(),
        }
    }

    #[test]
    fn foreign_keys_and_expiry() {
        let keys = Keys::ephemeral("https://pg.example").expect("keys");
        let far = chrono::Utc::now().timestamp() + 600;
        let t = keys.sign_now(&claims(&keys, far)).expect("sign");
        assert_eq!(
            keys.verify_offline(&t).map(|c| c.sub).as_deref(),
            Some("bot")
        );
        let expired = keys.sign_now(&claims(&keys, 10)).expect("sign");
        assert!(keys.verify_offline(&expired).is_none());
        let other = Keys::ephemeral("https://pg.example").expect("k");
        assert!(other.verify_offline(&t).is_none(), "another key");
        assert_ne!(keys.signing_kid(), other.signing_kid());
        // No leeway: a token whose `exp` has passed is dead at once.
        let past = chrono::Utc::now().timestamp() - 1;
        let gone = keys.sign_now(&claims(&keys, past)).expect("sign");
        assert!(keys.verify_offline(&gone).is_none(), "no leeway");
        // A remembered token is still checked for expiry.
        let soon = chrono::Utc::now().timestamp() + 2;
        let short = keys.sign_now(&claims(&keys, soon)).expect("sign");
        assert!(keys.verify_offline(&short).is_some(), "live");
        assert!(keys.verify_offline(&short).is_some(), "cached");
        std::thread::sleep(std::time::Duration::from_secs(3));
        assert!(
            keys.verify_offline(&short).is_none(),
            "expired, cached or not"
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_do_not_verify() {
        let keys = Keys::ephemeral("https://pg.example").expect("keys");
        let far = chrono::Utc::now().timestamp() + 600;
        let t = keys.sign_now(&claims(&keys, far)).expect("sign");
        let (signed, sig) = t.rsplit_once('.').expect("jws");
        let (header, _) = signed.split_once('.').expect("jws");
        // Another payload under the same signature.
        let mut other = claims(&keys, far);
        other.sub = "someone-else".into();
        let body = B64.encode(serde_json::to_vec(&other).expect("json"));
        assert!(keys
            .verify_offline(&format!("{header}.{body}.{sig}"))
            .is_none());
        // Wrong issuer or audience, correctly signed.
        let mut wrong_iss = claims(&keys, far);
        wrong_iss.iss = "https://elsewhere.example".into();
        let mut wrong_aud = claims(&keys, far);
        wrong_aud.aud = "https://elsewhere.example/v1".into();
        for c in [wrong_iss, wrong_aud] {
            let t = keys.sign_now(&c).expect("sign");
            assert!(keys.verify_offline(&t).is_none());
        }
        // The MCP audience verifies too (each resource server checks its own).
        let mut mcp = claims(&keys, far);
        mcp.aud = crate::domain::resource::mcp("https://pg.example");
        let t = keys.sign_now(&mcp).expect("sign");
        assert!(keys.verify_offline(&t).is_some());
        // Another `typ` or `alg` in the header, or no signature at all.
        for h in [
            serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": keys.signing_kid()}),
            serde_json::json!({"alg": "none", "typ": TYP, "kid": keys.signing_kid()}),
        ] {
            let forged = format!("{}.{}.{sig}", B64.encode(h.to_string()), body);
            assert!(keys.verify_offline(&forged).is_none());
        }
        assert!(keys.verify_offline(&format!("{signed}.")).is_none());
        assert!(keys.verify_offline(signed).is_none());
    }
}
