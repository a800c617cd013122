//! Several stateless instances on one database (DESIGN §6): two `pagegrant`
//! processes share everything through it and the master key, so a flow may
//! hop between them at every step; and key rotation with `pagegrant keys
//! rotate` keeps earlier tokens valid. Runs on SQLite (two processes on one
//! WAL file) and, with `PAGEGRANT_TEST_DATABASE_URL`, on PostgreSQL.

use std::sync::{Arc, Barrier};

use serde_json::Value;

use crate::kit::process::{cli, consent_code, introspect, login, me, token_call, world, Proc};
use crate::kit::*;

fn kid_of(jwt: &str) -> String {
    use base64::Engine;
    let head = jwt.split('.').next().unwrap_or_default();
    let v: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(head)
            .expect("b64"),
    )
    .expect("json");
    v["kid"].as_str().unwrap_or_default().to_string()
}

fn jwks_kids(p: &Proc) -> Vec<String> {
    let v: Value = bare_client()
        .get(p.url("/.well-known/jwks.json"))
        .send()
        .expect("jwks")
        .json()
        .expect("json");
    v["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_flow_hops_between_two_instances_on_one_database() {
    let w = world(2);
    let d = w.dir.path();
    let a = Proc::serve(d, "a.log", &[]);
    let b = Proc::serve(d, "b.log", &[]);
    assert_eq!(jwks_kids(&a), jwks_kids(&b), "one JWKS for both");

    // Consent on A, code exchange on B.
    let (browser_a, status, _) = login(&a.base, "user1@example.com", &w.password);
    assert_eq!(status, 303);
    let code = consent_code(&a.base, &browser_a, &w).expect("code from A");
    let (status, v) = token_call(
        &b.base,
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
    )
    .expect("exchange on B");
    assert_eq!(status, 200, "{v}");
    // Refresh on A; introspect and call the API on B.
    let rt = v["refresh_token"].as_str().expect("rt").to_string();
    let (status, v) = token_call(
        &a.base,
        &w,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .expect("refresh on A");
    assert_eq!(status, 200);
    let access = v["access_token"].as_str().expect("at").to_string();
    let refresh = v["refresh_token"].as_str().expect("rt").to_string();
    assert_eq!(introspect(&b, &w, &access)["active"], true);
    assert_eq!(introspect(&b, &w, &refresh)["active"], true);
    assert_eq!(me(&b, &access), 200);
    // The old refresh token, replayed on B, is reuse: the family dies on both.
    let (status, _) = token_call(
        &b.base,
        &w,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .expect("reuse");
    assert_eq!(status, 400);
    assert_eq!(
        me(&a, &access),
        401,
        "reuse detected on B revoked the family for A"
    );

    // A fresh grant: revoke on A, and B answers 401 at once.
    let code = consent_code(&a.base, &browser_a, &w).expect("code");
    let (_, v) = token_call(
        &a.base,
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
    )
    .expect("exchange");
    let access = v["access_token"].as_str().expect("at").to_string();
    assert_eq!(me(&b, &access), 200);
    let r = bare_client()
        .post(a.url("/v1/oauth/revoke"))
        .basic_auth(&w.client_id, Some(&w.client_secret))
        .form(&[("token", access.as_str())])
        .send()
        .expect("revoke on A");
    assert_eq!(r.status(), 200);
    assert_eq!(me(&b, &access), 401, "revoked on A, refused by B");

    // A session from A works on B (sessions live in the database).
    let r = browser_a
        .get(b.url("/developers"))
        .send()
        .expect("B with A's cookie");
    assert_eq!(r.status(), 200);

    // An internal token created on A, retrieved in the settings page served by B.
    let (owner, _, _) = login(&a.base, "user0@example.com", &w.password);
    let page = owner
        .get(a.url("/developers"))
        .send()
        .expect("dev")
        .text()
        .expect("body");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let home = owner.get(a.url("/")).send().expect("home");
    let ws = location(&home).trim_start_matches("/w/").to_string();
    let r = owner
        .post(a.url(&format!("/w/{ws}/settings/connections/internal")))
        .form(&[("csrf", csrf.as_str()), ("name", "Made On A")])
        .send()
        .expect("create on A");
    assert_eq!(r.status(), 303);
    // The redirect carries a one-time note, not the id: the new row's
    // token link on A's settings page names it.
    let settings = owner
        .get(a.url(&format!("/w/{ws}/settings/connections")))
        .send()
        .expect("settings on A")
        .text()
        .expect("body");
    let row = settings
        .split("<tr")
        .find(|row| row.contains("Made On A") && row.contains("/token"))
        .expect("the new row");
    let conn_id = row
        .split("/settings/connections/")
        .filter_map(|s| s.split_once("/token").map(|(id, _)| id))
        .find(|id| id.len() == 36)
        .expect("connection id")
        .to_string();
    let token_page = format!("/w/{ws}/settings/connections/{conn_id}/token");
    let (browser_b, _, _) = login(&b.base, "user0@example.com", &w.password);
    let page = browser_b
        .get(b.url(&token_page))
        .send()
        .expect("page on B")
        .text()
        .expect("body");
    let csrf_b = input_value(&page, "csrf").expect("csrf");
    let shown = browser_b
        .post(b.url(&token_page))
        .form(&[("csrf", csrf_b.as_str())])
        .send()
        .expect("show on B")
        .text()
        .expect("body");
    let internal = attr(&shown, r#"[value^="ntn_"]"#, "value").expect("the token, decrypted on B");
    assert_eq!(internal.len(), 47, "{internal}");
    assert_eq!(me(&a, &internal), 200, "and it works on A");

    // Five parallel redemptions of one code, split across both: one 200.
    let code = consent_code(&a.base, &browser_a, &w).expect("code");
    let barrier = Arc::new(Barrier::new(5));
    let w = Arc::new(w);
    let bases = [a.base.clone(), b.base.clone()];
    let handles: Vec<_> = (0..5)
        .map(|i| {
            let (barrier, w, base, code) = (
                barrier.clone(),
                w.clone(),
                bases[i % 2].clone(),
                code.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                token_call(
                    &base,
                    &w,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", CB),
                    ],
                )
                .expect("redeem")
                .0
            })
        })
        .collect();
    let statuses: Vec<u16> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

#[test]
fn keys_rotate_adds_a_signing_key_and_old_tokens_stay_valid() {
    let w = world(1);
    let d = w.dir.path();
    let a = Proc::serve(d, "a.log", &[]);
    let b = Proc::serve(d, "b.log", &[]);
    let (browser, _, _) = login(&a.base, "user0@example.com", &w.password);
    let code = consent_code(&a.base, &browser, &w).expect("code");
    let (_, v) = token_call(
        &a.base,
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
    )
    .expect("exchange");
    let old_access = v["access_token"].as_str().expect("at").to_string();
    let rt = v["refresh_token"].as_str().expect("rt").to_string();
    let old_kid = kid_of(&old_access);

    let out = cli(d, &["keys", "rotate"], None);
    let new_kid = out["kid"].as_str().expect("kid").to_string();
    assert_ne!(new_kid, old_kid);
    let listed = cli(d, &["keys", "list"], None);
    assert_eq!(listed["kid"], new_kid.as_str(), "the new key signs");
    assert_eq!(listed["keys"].as_array().expect("keys").len(), 2);

    // A publishes both keys (and, having re-read them, signs with the new one).
    let kids = jwks_kids(&a);
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    let (status, v) = token_call(
        &a.base,
        &w,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .expect("refresh");
    assert_eq!(status, 200);
    let new_access = v["access_token"].as_str().expect("at").to_string();
    assert_eq!(kid_of(&new_access), new_kid);
    // B has not re-read the keys yet: the unknown kid makes it look.
    assert_eq!(me(&b, &new_access), 200);
    let kids = jwks_kids(&b);
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    // Tokens signed with the old key stay valid until they expire.
    assert_eq!(me(&a, &old_access), 200);
    assert_eq!(me(&b, &old_access), 200);
    assert_eq!(introspect(&b, &w, &old_access)["active"], true);
}
