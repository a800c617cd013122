//! What one ES256 access token costs to sign and to verify through
//! pagegrant's `oauth::jwt::Keys`: signing with a ring key pair parsed once,
//! verification through ring (first sight of a token) and through
//! the cache of verified tokens (seen before). For scripts/bench's profile
//! notes (never run by CI).
//!
//! usage: cargo run --release --example jwt_cost [ITERATIONS]

use std::time::Instant;

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
    let issuer = "http://127.0.0.1:8080";
    let keys = Keys::ephemeral(issuer)?;
    let claims = |i: u32| Claims {
        iss: issuer.into(),
        sub: "6b1b8a4e-3f43-4d5e-9a0e-0d6c1c2f3a4b".into(),
        aud: keys.audience(),
        client_id: "3f41f08d-98a5-457e-9777-93d877543bfa".into(),
        workspace_id: "9a9200e9-5761-4f1d-9b26-59d24c6a5150".into(),
        jti: format!("Vgxtu-VxXKn0HcuymvzI9ANRtGBiun6v5tA2rOKJi9d{i:012}"),
        iat: chrono::Utc::now().timestamp(),
        exp: chrono::Utc::now().timestamp() + 3600,
        scope: "read_content update_content insert_content read_user_with_email".into(),
        fam: "0190c1f0-0000-7000-8000-000000000000".into(),
    };
    let tokens: Vec<String> = (0..n)
        .map(|i| keys.sign_now(&claims(i)))
        .collect::<Result<_, _>>()?;
    if keys.verify_offline(&tokens[0]).is_none() {
        return Err("the token does not verify".into());
    }
    println!("{n} iterations each");
    let mut i = 0;
    time("Keys::sign_now (ring, key parsed once)", n, || {
        i += 1;
        keys.sign_now(&claims(i))
    });
    let mut j = 0;
    time(
        "Keys::verify, first sight (ring ES256 + checks)",
        n - 1,
        || {
            j += 1;
            keys.verify_offline(&tokens[j as usize])
        },
    );
    time("Keys::verify, seen before (cache)", n, || {
        keys.verify_offline(&tokens[0])
    });
    time("sha256_hex (a code or refresh token lookup)", n, || {
        pagegrant::crypto::sha256_hex(&tokens[0])
    });
    Ok(())
}
