//! RFC 9068 access tokens: an ES256 key generated on first start into
//! `server.data_dir` (PKCS#8 PEM, mode 0600) and reused after, the JWKS that
//! publishes it, and signing and verification through `jsonwebtoken`.
//! Verification accepts only ES256 with our `kid` and `typ: at+jwt`, so `none`,
//! HS256-with-the-public-key and foreign keys fail before any claim is read.

use std::collections::HashSet;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

const KEY_FILE: &str = "signing-key.pem";
pub const TYP: &str = "at+jwt";
/// Clock skew tolerated on `exp`: seconds, not minutes.
const LEEWAY_S: u64 = 5;

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
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub kid: String,
    jwk: serde_json::Value,
    issuer: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("kid", &self.kid).finish()
    }
}

fn load_or_create_secret(data_dir: &Path) -> AppResult<p256::SecretKey> {
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| AppError::internal(format!("reading {}: {e}", path.display())))?;
        return p256::SecretKey::from_pkcs8_pem(&pem).map_err(|_| {
            AppError::internal(format!("{} is not a PKCS#8 P-256 key", path.display()))
        });
    }
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| AppError::internal("encoding the signing key"))?;
    crate::crypto::write_private(&path, pem.as_str())?;
    Ok(secret)
}

impl Keys {
    pub fn load_or_create(data_dir: &Path, issuer: &str) -> AppResult<Keys> {
        let secret = load_or_create_secret(data_dir)?;
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| AppError::internal("encoding the signing key"))?;
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes())
            .map_err(|e| AppError::internal(format!("signing key: {e}")))?;
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &secret.public_key(),
            false,
        );
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(AppError::internal("signing key has no affine coordinates"));
        };
        let (x, y) = (B64.encode(x), B64.encode(y));
        // RFC 7638 thumbprint: SHA-256 over the required members in lexical order.
        let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = B64.encode(Sha256::digest(thumb_input.as_bytes()));
        let decoding = DecodingKey::from_ec_components(&x, &y)
            .map_err(|e| AppError::internal(format!("verification key: {e}")))?;
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "use": "sig", "alg": "ES256"
        });
        Ok(Keys {
            encoding,
            decoding,
            kid,
            jwk,
            issuer: issuer.to_string(),
        })
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }

    /// The audience of our access tokens: this server's API.
    pub fn audience(&self) -> String {
        format!("{}/v1", self.issuer)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn sign(&self, claims: &Claims) -> AppResult<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(TYP.into());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("signing: {e}")))
    }

    /// Verifies signature, header, issuer, audience and expiry; `None` for any
    /// token that is not one of ours and live.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        self.verify_inner(token, true)
    }

    /// Like `verify`, but an expired token still counts (revocation).
    pub fn verify_ignoring_expiry(&self, token: &str) -> Option<Claims> {
        self.verify_inner(token, false)
    }

    fn verify_inner(&self, token: &str, check_exp: bool) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::ES256
            || header.typ.as_deref() != Some(TYP)
            || header.kid.as_deref() != Some(self.kid.as_str())
        {
            return None;
        }
        let mut v = Validation::new(Algorithm::ES256);
        v.leeway = LEEWAY_S;
        v.validate_exp = check_exp;
        v.set_issuer(&[self.issuer.as_str()]);
        v.set_audience(&[self.audience()]);
        v.required_spec_claims = ["exp", "iat", "iss", "aud", "sub"]
            .into_iter()
            .map(String::from)
            .collect::<HashSet<_>>();
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
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
        }
    }

    #[test]
    fn key_persists_and_tokens_verify() {
        let dir = tempfile::tempdir().expect("dir");
        let keys = Keys::load_or_create(dir.path(), "https://pg.example").expect("keys");
        let again = Keys::load_or_create(dir.path(), "https://pg.example").expect("keys");
        assert_eq!(keys.kid, again.kid, "the key is reused after a restart");
        let far = chrono::Utc::now().timestamp() + 600;
        let t = keys.sign(&claims(&keys, far)).expect("sign");
        assert_eq!(again.verify(&t).map(|c| c.sub).as_deref(), Some("bot"));
        let expired = keys.sign(&claims(&keys, 10)).expect("sign");
        assert!(keys.verify(&expired).is_none());
        assert!(keys.verify_ignoring_expiry(&expired).is_some());
        let other =
            Keys::load_or_create(tempfile::tempdir().expect("d").path(), "https://pg.example")
                .expect("k");
        assert!(other.verify(&t).is_none(), "another key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
