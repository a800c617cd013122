//! The per-connection API rate limit (`api.rate_limit_per_s` average,
//! `api.rate_limit_burst` burst; 0 turns it off), one token bucket per
//! connection in the database (`rate_buckets`), shared by every instance on
//! it, so N instances allow the configured rate, not N times it (S107).
//!
//! An instance does not write the bucket per request: it takes a lease of
//! the tokens for a tenth of a second's budget (at least one) and spends it
//! in memory; a lease not spent within `LEASE` gives its rest back with the
//! next lease (capped at the burst). A connection found empty is refused in
//! memory until its next token is due, so one hammering its limit costs the
//! database one lease per token, not a trip per refusal. The slack: tokens
//! leased up to `LEASE` before they are spent, so over any span `t` the
//! instances together allow at most `burst + per_s × (t + 2 × LEASE)`; and
//! a lease held by one instance may refuse another for up to `LEASE`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::ApiConfig;
use crate::db::queries::rate::{self, Rule};
use crate::db::{self, Pool};
use crate::error::AppResult;

/// How long an instance may hold leased tokens before it gives them back.
pub const LEASE: Duration = Duration::from_millis(100);

/// Connections kept in memory before those with nothing held are dropped.
const KEEP: usize = 4096;

/// A connection over its limit, and the whole seconds until it may try
/// again; `http::errors` makes Notion's 429 of it.
#[derive(Debug, Clone, Copy)]
pub struct RateLimited {
    pub retry_after_s: u64,
}

impl RateLimited {
    fn until(until: Instant, now: Instant) -> RateLimited {
        RateLimited {
            retry_after_s: until.saturating_duration_since(now).as_secs_f64().ceil() as u64,
        }
        .at_least_one()
    }

    fn at_least_one(self) -> RateLimited {
        RateLimited {
            retry_after_s: self.retry_after_s.max(1),
        }
    }
}

/// What this instance holds for one connection.
#[derive(Debug, Clone, Copy)]
struct Held {
    tokens: u32,
    lease_until: Instant,
    refused_until: Option<Instant>,
}

pub struct Limiter {
    rule: Rule,
    /// Tokens taken per lease: a tenth of a second's budget, at least one,
    /// at most the burst.
    slice: u32,
    held: Mutex<HashMap<String, Held>>,
}

/// What the in-memory step decided.
enum Local {
    Spent,
    Refused(RateLimited),
    /// Go to the bucket, giving back this many tokens of an expired lease.
    Lease(u32),
}

impl Limiter {
    pub fn new(cfg: &ApiConfig) -> Option<Limiter> {
        if cfg.rate_limit_per_s == 0 {
            return None;
        }
        let rule = Rule {
            per_s: cfg.rate_limit_per_s,
            burst: cfg.rate_limit_burst.max(1),
        };
        let tenth = u64::from(rule.per_s) * LEASE.as_millis() as u64 / 1000;
        let slice = u32::try_from(tenth)
            .unwrap_or(u32::MAX)
            .clamp(1, rule.burst);
        Some(Limiter {
            rule,
            slice,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Spends one of `connection`'s tokens: from this instance's lease when
    /// it holds one, else from the shared bucket (one write transaction).
    /// `Ok(Err(_))` is a refusal; `Err(_)` a database failure.
    pub async fn check(&self, pool: &Pool, connection: &str) -> AppResult<Result<(), RateLimited>> {
        let returned = match self.local(connection, Instant::now()) {
            Local::Spent => return Ok(Ok(())),
            Local::Refused(r) => return Ok(Err(r)),
            Local::Lease(returned) => returned,
        };
        let (key, rule, want) = (connection.to_string(), self.rule, self.slice);
        let lease = db::run(pool, move |c| {
            Ok(rate::lease(
                c,
                &key,
                crate::db::models::now_ms(),
                rule,
                want,
                returned,
            )?)
        })
        .await?;
        Ok(self.settle(connection, lease))
    }

    /// `check` on a connection the caller already holds, for a request
    /// whose token is resolved in the same trip to the database thread as
    /// its work (`api::bearer::Bearer::run`): the lease, when one is
    /// needed, is taken on that connection instead of a second trip.
    pub fn check_on(
        &self,
        c: &mut db::Conn,
        connection: &str,
    ) -> AppResult<Result<(), RateLimited>> {
        let returned = match self.local(connection, Instant::now()) {
            Local::Spent => return Ok(Ok(())),
            Local::Refused(r) => return Ok(Err(r)),
            Local::Lease(returned) => returned,
        };
        let lease = rate::lease(
            c,
            connection,
            crate::db::models::now_ms(),
            self.rule,
            self.slice,
            returned,
        )?;
        Ok(self.settle(connection, lease))
    }

    /// Keeps what a lease from the bucket granted, spending one token.
    fn settle(&self, connection: &str, lease: rate::Lease) -> Result<(), RateLimited> {
        let now = Instant::now();
        let mut held = self.lock();
        let h = held.entry(connection.to_string()).or_insert(Held {
            tokens: 0,
            lease_until: now,
            refused_until: None,
        });
        if lease.granted == 0 {
            // A lease taken meanwhile by another request here may have some.
            if h.lease_until > now && h.tokens > 0 {
                h.tokens -= 1;
                return Ok(());
            }
            let until = now + Duration::from_millis(lease.wait_ms);
            h.refused_until = Some(until);
            return Err(RateLimited::until(until, now));
        }
        h.tokens = h.tokens.saturating_add(lease.granted - 1);
        h.lease_until = now + LEASE;
        h.refused_until = None;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn local(&self, connection: &str, now: Instant) -> Local {
        let mut held = self.lock();
        if held.len() >= KEEP {
            held.retain(|_, h| h.lease_until > now || h.refused_until.is_some_and(|u| u > now));
        }
        let Some(h) = held.get_mut(connection) else {
            return Local::Lease(0);
        };
        if let Some(until) = h.refused_until {
            if now < until {
                return Local::Refused(RateLimited::until(until, now));
            }
            h.refused_until = None;
        }
        if h.lease_until > now {
            if h.tokens > 0 {
                h.tokens -= 1;
                return Local::Spent;
            }
            return Local::Lease(0);
        }
        Local::Lease(std::mem::take(&mut h.tokens))
    }
}
