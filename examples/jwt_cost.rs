//! What one ES256 access token costs to sign and to verify, through
//! pagegrant's `oauth::jwt::Keys` (jsonwebtoken) and, for comparison, with a
//! p256 key parsed once. For scripts/bench's profile notes (never run by CI).
//! jsonwebtoken builds its signer and verifier from the key bytes on every
//! call; the `once` rows show what parsing the key once saves.
//!
//! usage: cargo run --release --example jwt_cost [ITERATIONS]

use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePrivateKey;
use pagegrant::oauth::jwt::{Claims, Keys};

fn time<T>(label: &str, n: u32, mut f: impl FnMut() -> T) {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{label:<52} {us:>8.1} µs");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let issuer = "http://127.0.0.1:8080";
    let keys = Keys::load_or_create(dir.path(), issuer)?;
    let claims = Claims {
        iss: issuer.into(),
        sub: "6b1b8a4e-3f43-4d5e-9a0e-0d6c1c2f3a4b".into(),
        aud: keys.audience(),
        client_id: "3f41f08d-98a5-457e-9777-93d877543bfa".into(),
        workspace_id: "9a9200e9-5761-4f1d-9b26-59d24c6a5150".into(),
        jti: "Vgxtu-VxXKn0HcuymvzI9ANRtGBiun6v5tA2rOKJi9d0123456789ab".into(),
        iat: chrono::Utc::now().timestamp(),
        exp: chrono::Utc::now().timestamp() + 3600,
        scope: "read_content update_content insert_content read_user_with_email".into(),
    };
    let token = keys.sign(&claims)?;
    if keys.verify(&token).is_none() {
        return Err("the token does not verify".into());
    }

    let pem = std::fs::read_to_string(dir.path().join("signing-key.pem"))?;
    let sk = SigningKey::from_pkcs8_pem(&pem)?;
    let vk = VerifyingKey::from(&sk);
    let (input, sig) = token.rsplit_once('.').ok_or("not a JWS")?;
    let sig = Signature::from_slice(&B64.decode(sig)?)?;

    println!("{n} iterations each");
    time("Keys::sign (jsonwebtoken::encode, ES256)", n, || {
        keys.sign(&claims)
    });
    time("Keys::verify (jsonwebtoken::decode + checks)", n, || {
        keys.verify(&token)
    });
    time(
        "p256 SigningKey::from_pkcs8_pem (per call above)",
        n,
        || SigningKey::from_pkcs8_pem(&pem),
    );
    time("p256 sign, key parsed once", n, || -> Signature {
        sk.sign(input.as_bytes())
    });
    time("p256 verify, key parsed once", n, || {
        vk.verify(input.as_bytes(), &sig)
    });
    time("sha256_hex (a code or refresh token lookup)", n, || {
        pagegrant::crypto::sha256_hex(&token)
    });
    Ok(())
}
