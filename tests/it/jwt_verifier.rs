//! Property tests of the access-token verifier (S43, S44), called through
//! the library (`pagegrant::oauth::jwt::Keys`) with the key set a real
//! server loads, and over HTTP: random bytes, random three-part strings,
//! truncated, extended and bit-flipped good tokens never verify and never
//! panic; a validly signed token under a random header verifies exactly
//! when the header says `alg: ES256`, `typ: at+jwt` and one of our `kid`s.
//! Runs of 256 cases (`PROPTEST_CASES` sets more), 48 over HTTP.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

use pagegrant::oauth::jwt::{Claims, Keys};

use crate::kit::*;

fn config() -> Config {
    Config {
        // No regression files written into the tree; a failure prints its
        // minimal input.
        failure_persistence: None,
        ..Config::default()
    }
}

/// A server's key set, its signing `kid` and PEM, and a good token.
struct Verifier {
    srv: TestServer,
    keys: Keys,
    kid: String,
    pem: String,
    good: String,
}

fn claims(keys: &Keys) -> Claims {
    Claims {
        iss: keys.issuer().to_string(),
        sub: "bot".into(),
        aud: keys.audience(),
        client_id: "c".into(),
        workspace_id: "w".into(),
        jti: "j".into(),
        iat: 0,
        exp: chrono::Utc::now().timestamp() + 3600,
        scope: "read_content".into(),
        fam: String::new(),
    }
}

fn verifier() -> Verifier {
    let srv = TestServer::start();
    let (_, keys) = pagegrant::oauth::keys::load(&mut srv.conn(), &srv.config).expect("keys");
    let (kid, pem) = server_signing_key(&srv);
    let good = keys.sign_now(&claims(&keys)).expect("sign");
    assert!(
        keys.verify_offline(&good).is_some(),
        "the good token verifies"
    );
    Verifier {
        srv,
        keys,
        kid,
        pem,
        good,
    }
}

/// Characters of compact JWS strings, and some that are not.
fn token_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex("[A-Za-z0-9_.=+/-]{0,300}").expect("regex"),
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        (
            proptest::string::string_regex("[A-Za-z0-9_-]{0,120}").expect("regex"),
            proptest::string::string_regex("[A-Za-z0-9_-]{0,200}").expect("regex"),
            proptest::string::string_regex("[A-Za-z0-9_-]{0,90}").expect("regex"),
        )
            .prop_map(|(h, p, s)| format!("{h}.{p}.{s}")),
    ]
}

#[test]
fn random_strings_never_verify() {
    let v = verifier();
    TestRunner::new(config())
        .run(&token_text(), |t| {
            prop_assert!(v.keys.verify_offline(&t).is_none(), "{t:?} verified");
            prop_assert!(v.keys.verify(&mut v.srv.conn(), &t).is_none());
            prop_assert!(v
                .keys
                .verify_ignoring_expiry(&mut v.srv.conn(), &t)
                .is_none());
            Ok(())
        })
        .expect("no random string verifies");
}

/// How a good token is spoiled.
#[derive(Debug, Clone)]
enum Spoil {
    /// One bit of one character flipped (staying ASCII).
    Flip(usize, u8),
    /// Cut to this many characters.
    Truncate(usize),
    /// Something appended.
    Append(String),
    /// One character replaced by another.
    Replace(usize, char),
}

fn spoil(len: usize) -> impl Strategy<Value = Spoil> {
    prop_oneof![
        (0..len, 0u8..7).prop_map(|(i, b)| Spoil::Flip(i, b)),
        (0..len).prop_map(Spoil::Truncate),
        "[A-Za-z0-9_.=-]{1,8}".prop_map(Spoil::Append),
        (0..len, proptest::char::any()).prop_map(|(i, c)| Spoil::Replace(i, c)),
    ]
}

fn apply(good: &str, s: &Spoil) -> String {
    match s {
        Spoil::Flip(i, bit) => {
            let mut b = good.as_bytes().to_vec();
            b[*i] ^= 1 << bit;
            String::from_utf8(b).expect("still ASCII")
        }
        Spoil::Truncate(n) => good[..*n].to_string(),
        Spoil::Append(tail) => format!("{good}{tail}"),
        Spoil::Replace(i, c) => {
            let mut out: String = good[..*i].to_string();
            out.push(*c);
            out.push_str(&good[i + 1..]);
            out
        }
    }
}

#[test]
fn spoiled_good_tokens_never_verify() {
    let v = verifier();
    TestRunner::new(config())
        .run(&spoil(v.good.len()), |s| {
            let t = apply(&v.good, &s);
            if t != v.good {
                prop_assert!(v.keys.verify_offline(&t).is_none(), "{s:?}: {t}");
                prop_assert!(v.keys.verify(&mut v.srv.conn(), &t).is_none());
            }
            Ok(())
        })
        .expect("no spoiled token verifies");
    assert!(v.keys.verify_offline(&v.good).is_some(), "still good");
}

/// A header member: the right value, a near miss, another value, or absent.
fn member(
    right: &'static str,
    near: &'static [&'static str],
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(Some(json!(right))),
        proptest::sample::select(near).prop_map(|s| Some(json!(s))),
        "[ -~]{0,12}".prop_map(|s| Some(json!(s))),
        Just(Some(Value::Null)),
        Just(Some(json!(256))),
        Just(None),
    ]
}

fn header(kid: String) -> impl Strategy<Value = Map<String, Value>> {
    let kids = vec![kid.clone(), format!("{kid}x"), String::new(), "k1".into()];
    (
        member(
            "ES256",
            &[
                "es256", "ES384", "ES512", "RS256", "HS256", "none", "ES256 ", "EdDSA",
            ],
        ),
        member(
            "at+jwt",
            &["JWT", "jwt", "AT+JWT", "application/at+jwt", "at+JWT", ""],
        ),
        prop_oneof![
            proptest::sample::select(kids).prop_map(|k| Some(json!(k))),
            Just(None),
            Just(Some(json!(1))),
        ],
        proptest::option::of(("[a-z]{1,5}", "[ -~]{0,8}")),
    )
        .prop_map(|(alg, typ, kid, extra)| {
            let mut h = Map::new();
            for (k, v) in [("alg", alg), ("typ", typ), ("kid", kid)] {
                if let Some(v) = v {
                    h.insert(k.into(), v);
                }
            }
            if let Some((k, v)) = extra {
                if !["alg", "typ", "kid"].contains(&k.as_str()) {
                    h.insert(k, json!(v));
                }
            }
            h
        })
}

#[test]
fn a_valid_signature_verifies_only_under_our_header() {
    let v = verifier();
    let payload = serde_json::to_vec(&claims(&v.keys)).expect("json");
    TestRunner::new(config())
        .run(&header(v.kid.clone()), |h| {
            let t = sign_es256(&v.pem, &Value::Object(h.clone()), &payload);
            let ours = h.get("alg") == Some(&json!("ES256"))
                && h.get("typ") == Some(&json!("at+jwt"))
                && h.get("kid") == Some(&json!(v.kid));
            prop_assert_eq!(v.keys.verify_offline(&t).is_some(), ours, "{:?}", h);
            prop_assert_eq!(
                v.keys.verify(&mut v.srv.conn(), &t).is_some(),
                ours,
                "{:?}",
                h
            );
            Ok(())
        })
        .expect("the header decides");
}

/// Over HTTP: spoiled tokens and tokens under a foreign header are a 401
/// at the API (never a 5xx) and inactive at introspection.
#[test]
fn spoiled_tokens_over_http_are_401_and_inactive() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let v = tokens_for(&fx, &a);
    let good = v["access_token"].as_str().expect("at").to_string();
    let (kid, pem) = server_signing_key(&fx.srv);
    let payload = payload_of(&good);
    let cases = (spoil(good.len()), header(kid.clone()), any::<bool>());
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..config()
    });
    runner
        .run(&cases, |(s, h, spoiled)| {
            let t = if spoiled {
                apply(&good, &s)
            } else {
                sign_es256(&pem, &Value::Object(h.clone()), &payload)
            };
            let ours = !spoiled
                && h.get("alg") == Some(&json!("ES256"))
                && h.get("typ") == Some(&json!("at+jwt"))
                && h.get("kid") == Some(&json!(kid));
            if t == good || ours || !t.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                // Not a foreign token, or not sendable as a header value.
                return Ok(());
            }
            let status = me(&fx, &t).status().as_u16();
            prop_assert_eq!(status, 401, "{:?}", t);
            prop_assert_eq!(introspect(&fx, &t), json!({"active": false}), "{:?}", t);
            Ok(())
        })
        .expect("every foreign token is refused");
    assert_eq!(me(&fx, &good).status(), 200, "the good token still works");
}
