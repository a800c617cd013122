//! Group commit for grants (issue 30 item 1): token requests that arrive
//! together are written by one writer in one transaction, each in its own
//! savepoint. These check what a batch must not change: a bad request among
//! parallel ones fails alone, a replay inside a batch still revokes what
//! the first redemption issued (S29) and a reused refresh token its family
//! (S34) while the others stand, and every grant is counted in the
//! `grant_batch_size` metric.

use crate::kit::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};

/// Runs every request in `jobs` at once, each on its own thread.
fn parallel<'a>(jobs: Vec<Box<dyn FnOnce() -> Response + Send + 'a>>) -> Vec<Response> {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|j| s.spawn(j)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    })
}

fn json_of(r: Response) -> Value {
    assert_eq!(r.status(), 200);
    r.json().expect("json")
}

fn metric(fx: &Fx, name: &str) -> f64 {
    let body = bare_client()
        .get(fx.srv.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("body");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("number"))
        .unwrap_or_else(|| panic!("{name} missing in {body}"))
}

#[test]
fn parallel_exchanges_with_a_bad_one_among_them_the_rest_succeed() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let codes: Vec<String> = (0..12).map(|_| code(&fx, &a)).collect();
    let mut jobs: Vec<Box<dyn FnOnce() -> Response + Send + '_>> = codes
        .iter()
        .map(|c| Box::new(|| exchange(&fx, c)) as Box<dyn FnOnce() -> Response + Send + '_>)
        .collect();
    jobs.insert(6, Box::new(|| exchange(&fx, "not-a-code")));
    let mut out = parallel(jobs);
    let bad = out.remove(6);
    assert_oauth_error(bad, 400, "invalid_grant", "the unknown code");
    let mut seen = std::collections::HashSet::new();
    for r in out {
        let v = json_of(r);
        let at = v["access_token"].as_str().expect("at").to_string();
        assert_eq!(me(&fx, &at).status(), 200, "each grant was committed");
        let rt = v["refresh_token"].as_str().expect("rt");
        assert_eq!(introspect(&fx, rt)["active"], true);
        assert!(seen.insert(at), "every grant has its own token");
    }
}

#[test]
fn a_replay_in_a_batch_revokes_its_tokens_and_the_others_stand_s29() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let first = code(&fx, &a);
    let v = json_of(exchange(&fx, &first));
    let codes: Vec<String> = (0..10).map(|_| code(&fx, &a)).collect();
    let mut jobs: Vec<Box<dyn FnOnce() -> Response + Send + '_>> = codes
        .iter()
        .map(|c| Box::new(|| exchange(&fx, c)) as Box<dyn FnOnce() -> Response + Send + '_>)
        .collect();
    jobs.insert(5, Box::new(|| exchange(&fx, &first)));
    let mut out = parallel(jobs);
    assert_oauth_error(out.remove(5), 400, "invalid_grant", "the replay");
    let at = v["access_token"].as_str().expect("at");
    let rt = v["refresh_token"].as_str().expect("rt");
    assert_eq!(introspect(&fx, rt), json!({"active": false}), "S29");
    assert_eq!(me(&fx, at).status(), 401, "S29");
    for r in out {
        let n = json_of(r);
        let at = n["access_token"].as_str().expect("at");
        assert_eq!(me(&fx, at).status(), 200, "the others stand");
    }
}

#[test]
fn a_reused_refresh_token_in_a_batch_revokes_its_family_only_s34() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let victim = tokens_for(&fx, &a);
    let old = victim["refresh_token"].as_str().expect("rt").to_string();
    let rotated = json_of(refresh(&fx, &old));
    let others: Vec<String> = (0..8)
        .map(|_| {
            tokens_for(&fx, &a)["refresh_token"]
                .as_str()
                .expect("rt")
                .to_string()
        })
        .collect();
    let mut jobs: Vec<Box<dyn FnOnce() -> Response + Send + '_>> = others
        .iter()
        .map(|t| Box::new(|| refresh(&fx, t)) as Box<dyn FnOnce() -> Response + Send + '_>)
        .collect();
    jobs.insert(4, Box::new(|| refresh(&fx, &old)));
    let mut out = parallel(jobs);
    assert_oauth_error(out.remove(4), 400, "invalid_grant", "the reuse");
    let at = rotated["access_token"].as_str().expect("at");
    assert_eq!(me(&fx, at).status(), 401, "S34: the family is revoked");
    for r in out {
        let n = json_of(r);
        let rt = n["refresh_token"].as_str().expect("rt");
        assert_eq!(introspect(&fx, rt)["active"], true, "the others stand");
    }
}

#[test]
fn every_token_request_is_counted_in_a_grant_batch() {
    let fx = fixture();
    let a = logged_in(&fx.srv, "ada@example.com");
    let codes: Vec<String> = (0..6).map(|_| code(&fx, &a)).collect();
    let before = metric(&fx, "pagegrant_grant_batch_size_sum");
    let batches_before = metric(&fx, "pagegrant_grant_batch_size_count");
    let mut jobs: Vec<Box<dyn FnOnce() -> Response + Send + '_>> = codes
        .iter()
        .map(|c| Box::new(|| exchange(&fx, c)) as Box<dyn FnOnce() -> Response + Send + '_>)
        .collect();
    jobs.push(Box::new(|| exchange(&fx, "not-a-code")));
    let out = parallel(jobs);
    assert_eq!(out.iter().filter(|r| r.status() == 200).count(), 6);
    let grants = metric(&fx, "pagegrant_grant_batch_size_sum") - before;
    let batches = metric(&fx, "pagegrant_grant_batch_size_count") - batches_before;
    // PostgreSQL runs each request in a trip of its own (no batches).
    let batched =
        pagegrant::db::Backend::of(&fx.srv.config.database.url) == pagegrant::db::Backend::Sqlite;
    if !batched {
        assert_eq!((grants, batches), (0.0, 0.0));
        return;
    }
    assert_eq!(grants, 7.0, "each request is in exactly one batch");
    assert!((1.0..=7.0).contains(&batches), "{batches} batches");
}
