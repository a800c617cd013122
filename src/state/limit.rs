//! The per-connection API rate limit (`api.rate_limit_per_s` average,
//! `api.rate_limit_burst` burst; 0 turns it off), a GCRA limiter from
//! `governor`, kept per instance: with N instances a connection gets up to N
//! times the limit.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::ApiConfig;

/// A connection over its limit, and the whole seconds until it may try
/// again; `http::errors` makes Notion's 429 of it.
#[derive(Debug, Clone, Copy)]
pub struct RateLimited {
    pub retry_after_s: u64,
}

pub struct Limiter {
    inner: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Limiter {
    pub fn new(cfg: &ApiConfig) -> Option<Limiter> {
        let per_s = NonZeroU32::new(cfg.rate_limit_per_s)?;
        let burst = NonZeroU32::new(cfg.rate_limit_burst.max(1)).unwrap_or(per_s);
        Some(Limiter {
            inner: RateLimiter::keyed(Quota::per_second(per_s).allow_burst(burst)),
            clock: DefaultClock::default(),
        })
    }

    pub fn check(&self, connection: &str) -> Result<(), RateLimited> {
        match self.inner.check_key(&connection.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(RateLimited {
                    retry_after_s: wait.as_secs().max(1),
                })
            }
        }
    }
}
