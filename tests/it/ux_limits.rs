//! Several instances share their limits (issue 30 item 4): the
//! per-connection API rate limit is a token bucket in the database that
//! every instance leases from, so two instances on one database allow one
//! connection the configured rate, not twice it (S107). Runs on SQLite (two
//! processes on one WAL file) and, with `PAGEGRANT_TEST_DATABASE_URL`, on
//! PostgreSQL.

use std::time::Instant;

use crate::kit::process::{world, Proc};
use crate::kit::*;

const LIMIT: [(&str, &str); 2] = [
    ("PAGEGRANT_API__RATE_LIMIT_PER_S", "1"),
    ("PAGEGRANT_API__RATE_LIMIT_BURST", "10"),
];

/// One call to `path` with `token` on `p`: its status and Retry-After.
fn call(p: &Proc, path: &str, token: &str) -> (u16, Option<u64>) {
    let r = bare_client()
        .get(p.url(path))
        .bearer_auth(token)
        .send()
        .expect("call");
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status().as_u16(), retry)
}

/// S107: one connection calling two instances on one database, alternately
/// and then from both at once, is allowed the burst plus the rate over the
/// time it took (plus the documented lease slack of 0.2 s), not the sum of
/// two instances' budgets; every refusal is a 429 with Retry-After.
#[test]
fn two_instances_share_one_connections_rate_limit_s107() {
    let w = world(1);
    let d = w.dir.path();
    let a = Proc::serve(d, "a.log", &LIMIT);
    let b = Proc::serve(d, "b.log", &LIMIT);
    let started = Instant::now();
    let mut allowed = 0u32;
    let mut refused = 0u32;
    for i in 0..30 {
        let p = if i % 2 == 0 { &a } else { &b };
        let (status, retry) = call(p, "/v1/users/me", &w.internal_token);
        match status {
            200 => allowed += 1,
            429 => {
                refused += 1;
                assert!(retry.is_some_and(|s| s >= 1), "429 without Retry-After");
            }
            s => panic!("unexpected status {s}"),
        }
    }
    // Then both instances at once, from two threads.
    let both = std::thread::scope(|s| {
        let runs: Vec<_> = [&a, &b]
            .into_iter()
            .map(|p| {
                let token = &w.internal_token;
                s.spawn(move || {
                    (0..15)
                        .filter(|_| call(p, "/v1/users/me", token).0 == 200)
                        .count() as u32
                })
            })
            .collect();
        runs.into_iter()
            .map(|h| h.join().expect("thread"))
            .sum::<u32>()
    });
    allowed += both;
    let span = started.elapsed().as_secs_f64();
    // Burst 10, 1 token a second, and the 0.2 s of lease slack.
    let most = 10.0 + (span + 0.2);
    assert!(
        f64::from(allowed) <= most.floor(),
        "{allowed} calls allowed in {span:.2} s on two instances; at most {most:.1} (burst 10, 1/s)"
    );
    assert!(allowed >= 10, "the burst is allowed: {allowed}");
    assert!(refused > 0, "the alternating calls ran past the burst");
}

/// S107: the bucket is per connection across instances too: a connection
/// that spent its burst on one instance is refused on the other, while
/// another connection on that other instance still has its own budget.
#[test]
fn a_burst_spent_on_one_instance_is_spent_on_the_other_s107() {
    let w = world(1);
    let d = w.dir.path();
    let a = Proc::serve(d, "a.log", &LIMIT);
    let b = Proc::serve(d, "b.log", &LIMIT);
    let spent = (0..10)
        .filter(|_| call(&a, "/v1/users/me", &w.internal_token).0 == 200)
        .count();
    assert!(spent >= 9, "the burst on A: {spent}");
    let on_b = (0..3)
        .filter(|_| call(&b, "/v1/users/me", &w.internal_token).0 == 200)
        .count();
    assert!(on_b <= 2, "B allowed {on_b} calls after A spent the burst");
    let other = crate::kit::process::cli(
        d,
        &[
            "integration",
            "add",
            "--name",
            "Other",
            "--internal",
            "--workspace",
            "Acme",
        ],
        None,
    );
    let token = other["token"].as_str().expect("token");
    assert_eq!(call(&b, "/v1/users/me", token).0, 200, "another connection");
}
