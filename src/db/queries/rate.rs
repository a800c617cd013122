//! The per-connection API rate limit's shared token bucket (`rate_buckets`):
//! one row per connection, tokens in thousandths, refilled by the elapsed
//! wall-clock time when an instance comes to take a lease. `state::limit`
//! spends a lease's tokens in memory, so this runs once per lease.

use diesel::prelude::*;

use crate::db::schema::rate_buckets;
use crate::db::{lock_key, write_tx_with, Conn};

/// The bucket's rule: `per_s` tokens a second up to `burst`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub per_s: u32,
    pub burst: u32,
}

/// What a lease got: `granted` whole tokens (0 when the bucket is empty),
/// and when it is empty, the milliseconds until the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub granted: u32,
    pub wait_ms: u64,
}

/// Gives back `returned` unspent tokens of an expired lease and takes up to
/// `want`, in one write transaction: SQLite's `BEGIN IMMEDIATE` and
/// PostgreSQL's advisory lock on the key make concurrent leases from every
/// instance run one after another, so the tokens handed out never exceed
/// what the bucket held. A bucket seen for the first time starts full.
pub fn lease(
    conn: &mut Conn,
    key: &str,
    now_ms: i64,
    rule: Rule,
    want: u32,
    returned: u32,
) -> QueryResult<Lease> {
    write_tx_with(conn, |c| {
        lock_key(c, &format!("rate:{key}"))?;
        let cap = i64::from(rule.burst) * 1000;
        let row: Option<(i64, i64)> = rate_buckets::table
            .find(key)
            .select((rate_buckets::milli_tokens, rate_buckets::updated_ms))
            .first(c)
            .optional()?;
        // A clock behind the last writer's refills nothing (and does not
        // move the bucket's time back).
        let (held, at) = match row {
            Some((held, at)) => (held, at.max(now_ms)),
            None => (cap, now_ms),
        };
        let elapsed = row.map_or(0, |(_, was)| (now_ms - was).max(0));
        let refill = elapsed.saturating_mul(i64::from(rule.per_s));
        let mut milli = held
            .saturating_add(refill)
            .saturating_add(i64::from(returned) * 1000)
            .min(cap);
        let granted = (milli / 1000).clamp(0, i64::from(want));
        milli -= granted * 1000;
        let wait_ms = if granted == 0 {
            let short = u64::try_from(1000 - milli).unwrap_or(1000);
            short.div_ceil(u64::from(rule.per_s.max(1)))
        } else {
            0
        };
        crate::on_backend!(c, |b| diesel::insert_into(rate_buckets::table)
            .values((
                rate_buckets::connection_id.eq(key),
                rate_buckets::milli_tokens.eq(milli),
                rate_buckets::updated_ms.eq(at),
            ))
            .on_conflict(rate_buckets::connection_id)
            .do_update()
            .set((
                rate_buckets::milli_tokens.eq(milli),
                rate_buckets::updated_ms.eq(at),
            ))
            .execute(b))?;
        Ok(Lease {
            granted: u32::try_from(granted).unwrap_or(0),
            wait_ms,
        })
    })
}
