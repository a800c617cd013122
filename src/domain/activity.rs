//! What each connection did (DESIGN §10, issue 29 item 3): the pages it
//! read, counted per page, MCP tool or `/v1` route and hour, and every page
//! it created or changed, one row each, in `connection_activity`; shown
//! under Settings → the connection's ••• → **Activity** to owners and to
//! the person who made the connection, exported as CSV, and kept
//! `agents.activity_days`.
//!
//! A read costs no database write of its own: `Buffer::read` adds one to a
//! count in memory (a hash-map update under a lock), and `flush` writes
//! each (connection, page, op, hour) bucket with one upsert, every
//! `agents.activity_flush_s` and when the server stops. A write is recorded
//! in the transaction of the write itself (`record_write`, called by
//! `domain::reach`). Search is not a read of the pages it lists: it shows
//! titles, and the agent reads a page by fetching it (docs/decisions.md).
//! The audit log keeps people's actions; agent reads never go there.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::db::models::{
    now, Activity, ActivityKind, ActivityOp, ActivitySurface, ConnectionId, NewActivity, PageId,
    Role, UserId, Visibility, WorkspaceId,
};
use crate::db::queries::activity as q;
use crate::db::{self, Conn};
use crate::domain::connections;
use crate::error::{AppError, AppResult};

pub use crate::db::queries::activity::Filter;

/// Rows one list page shows.
pub const PAGE_SIZE: i64 = 50;
/// Rows one CSV export holds at most (the newest).
pub const EXPORT_LIMIT: i64 = 10_000;
/// Distinct read buckets the buffer holds between two flushes; reads of a
/// new bucket past it are dropped (and counted in the log), so memory stays
/// bounded whatever the traffic.
pub const MAX_BUCKETS: usize = 100_000;
const HOUR: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Bucket {
    connection: ConnectionId,
    page: PageId,
    op: ActivityOp,
    hour: i64,
}

#[derive(Debug, Clone, Copy)]
struct Tally {
    count: i64,
    last: i64,
}

#[derive(Default)]
struct Counts {
    buckets: HashMap<Bucket, Tally>,
    dropped: u64,
}

/// Reads counted in memory until the next flush; cheap to clone (one
/// buffer per server, in `AppState`).
#[derive(Clone, Default)]
pub struct Buffer {
    inner: Arc<Mutex<Counts>>,
}

impl Buffer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding the lock leaves plain counts behind; they
        // are still good.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One read of `page` by `connection` through `op`, now.
    pub fn read(&self, connection: &ConnectionId, page: &PageId, op: ActivityOp) {
        let at = now();
        let key = Bucket {
            connection: connection.clone(),
            page: page.clone(),
            op,
            hour: at - at.rem_euclid(HOUR),
        };
        let mut counts = self.lock();
        let full = counts.buckets.len() >= MAX_BUCKETS;
        match counts.buckets.get_mut(&key) {
            Some(t) => {
                t.count += 1;
                t.last = at;
            }
            None if full => counts.dropped += 1,
            None => {
                counts.buckets.insert(key, Tally { count: 1, last: at });
            }
        }
    }

    /// Read buckets waiting for the next flush.
    pub fn pending(&self) -> usize {
        self.lock().buckets.len()
    }

    fn take(&self) -> Counts {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back what a failed flush took, for the next one.
    fn restore(&self, back: HashMap<Bucket, Tally>) {
        let mut counts = self.lock();
        for (k, t) in back {
            let full = counts.buckets.len() >= MAX_BUCKETS;
            match counts.buckets.get_mut(&k) {
                Some(n) => {
                    n.count += t.count;
                    n.last = n.last.max(t.last);
                }
                None if full => counts.dropped += 1,
                None => {
                    counts.buckets.insert(k, t);
                }
            }
        }
    }
}

/// What a flush did: buckets written, and reads dropped since the last
/// one because the buffer was full.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    pub buckets: usize,
    pub dropped: u64,
}

/// Writes the buffered reads, one upsert per bucket, in one transaction.
/// Buckets whose connection or page is gone meanwhile are left out; on a
/// failure the counts go back into the buffer.
pub fn flush(c: &mut Conn, buffer: &Buffer) -> AppResult<Flushed> {
    let Counts { buckets, dropped } = buffer.take();
    if buckets.is_empty() {
        return Ok(Flushed {
            buckets: 0,
            dropped,
        });
    }
    let n = buckets.len();
    match write_buckets(c, &buckets) {
        Ok(()) => Ok(Flushed {
            buckets: n,
            dropped,
        }),
        Err(e) => {
            buffer.restore(buckets);
            Err(e)
        }
    }
}

/// Buckets per existence query: SQLite binds each id of an `IN (…)` list
/// as its own parameter (at most 32,766), so a large flush asks in chunks.
const CHUNK: usize = 1000;

fn write_buckets(c: &mut Conn, buckets: &HashMap<Bucket, Tally>) -> AppResult<()> {
    let all: Vec<(&Bucket, &Tally)> = buckets.iter().collect();
    db::write_tx(c, |c| {
        for chunk in all.chunks(CHUNK) {
            let conns: Vec<&ConnectionId> = chunk.iter().map(|(b, _)| &b.connection).collect();
            let pages: Vec<&PageId> = chunk.iter().map(|(b, _)| &b.page).collect();
            let live_conns: HashSet<ConnectionId> =
                q::live_connections(c, &conns)?.into_iter().collect();
            let live_pages: HashSet<PageId> = q::live_pages(c, &pages)?.into_iter().collect();
            for (b, t) in chunk {
                // Deleted meanwhile: nothing left to show the read against.
                if !live_conns.contains(&b.connection) || !live_pages.contains(&b.page) {
                    continue;
                }
                q::add_read(c, &read_row(b, t))?;
            }
        }
        Ok(())
    })
}

fn read_row(b: &Bucket, t: &Tally) -> NewActivity {
    NewActivity {
        connection_id: b.connection.clone(),
        page_id: b.page.clone(),
        kind: ActivityKind::Read,
        surface: b.op.surface(),
        op: b.op,
        at: b.hour,
        last_at: t.last,
        count: t.count,
        detail: String::new(),
        read_key: Some(format!("{}|{}|{}|{}", b.connection, b.page, b.op, b.hour)),
    }
}

/// Records one write (`op`) of `page` by `connection`; call it inside the
/// write's own transaction. `detail` says what, in words ("3 block(s)").
pub fn record_write(
    c: &mut Conn,
    connection: &ConnectionId,
    page: &PageId,
    op: ActivityOp,
    detail: Option<&str>,
) -> AppResult<()> {
    let at = now();
    Ok(q::add_write(
        c,
        &NewActivity {
            connection_id: connection.clone(),
            page_id: page.clone(),
            kind: ActivityKind::Write,
            surface: op.surface(),
            op,
            at,
            last_at: at,
            count: 1,
            detail: detail.unwrap_or_default().to_string(),
            read_key: None,
        },
    )?)
}

/// Deletes activity older than `agents.activity_days`; how many rows.
pub fn purge(c: &mut Conn, config: &Config) -> AppResult<usize> {
    let cutoff = now() - config.agents.activity_days * 86_400;
    Ok(q::purge_before(c, cutoff)?)
}

// ------------------------------------------------------------------ reading it

/// What a person asked to see: the filter as the page's query gives it.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// `read`, `write` or empty (both).
    pub kind: String,
    /// `mcp`, `api`, one op (`mcp.fetch`, `api.get_page`, …) or empty.
    pub via: String,
    /// The cursor of the row the previous page ended at: `{at}_{id}`.
    pub before: Option<String>,
}

impl Ask {
    /// The filter it names; an unknown kind, surface or op is `Invalid`.
    pub fn filter(&self) -> AppResult<Filter> {
        let kind =
            match self.kind.trim() {
                "" => None,
                k => Some(ActivityKind::parse(k).ok_or_else(|| {
                    AppError::invalid("Show must be Reads, Writes or Everything.")
                })?),
            };
        let (surface, op) = match self.via.trim() {
            "" => (None, None),
            v => match (ActivitySurface::parse(v), ActivityOp::parse(v)) {
                (Some(s), _) => (Some(s), None),
                (_, Some(o)) => (None, Some(o)),
                _ => {
                    return Err(AppError::invalid(
                        "Through must be MCP, /v1, or one of their tools or routes listed.",
                    ))
                }
            },
        };
        Ok(Filter { kind, surface, op })
    }

    fn cursor(&self) -> AppResult<Option<(i64, i32)>> {
        let Some(raw) = self.before.as_deref().filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        let parsed = raw
            .split_once('_')
            .and_then(|(a, i)| Some((a.parse().ok()?, i.parse().ok()?)));
        parsed.map(Some).ok_or_else(|| {
            AppError::invalid("That list position is not valid; start from the newest.")
        })
    }
}

/// One row as a person reads it.
pub struct Entry {
    pub row: Activity,
    /// The page's title, or "A private page" when it is another person's
    /// private page (S106).
    pub page_title: String,
    /// The viewer may open the page.
    pub page_visible: bool,
}

/// A page of a connection's activity, and the cursor of the next, older
/// page when there is one.
pub struct Listing {
    pub integration: String,
    pub installer: UserId,
    pub entries: Vec<Entry>,
    pub older: Option<String>,
}

/// The activity of connection `id` in workspace `ws`, for `viewer`: owners
/// see every connection's, members their own; anyone else is refused
/// (S105, `connections::manageable`).
pub fn list(
    c: &mut Conn,
    ws: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    id: &ConnectionId,
    ask: &Ask,
) -> AppResult<Listing> {
    let filter = ask.filter()?;
    let before = ask.cursor()?;
    let (connection, integration) = connections::manageable(c, ws, viewer, role, id)?;
    let mut rows = q::page_of(c, &connection.id, before, PAGE_SIZE + 1, &filter)?;
    let older = match rows.len() as i64 > PAGE_SIZE {
        true => {
            rows.truncate(PAGE_SIZE as usize);
            rows.last().map(|(a, ..)| format!("{}_{}", a.at, a.id))
        }
        false => None,
    };
    Ok(Listing {
        integration: integration.name,
        installer: connection.installed_by,
        entries: rows.into_iter().map(|r| entry(viewer, r)).collect(),
        older,
    })
}

fn entry(viewer: &UserId, (row, title, visibility, creator): q::Listed) -> Entry {
    let page_visible = visibility == Visibility::Workspace || &creator == viewer;
    let page_title = match (page_visible, title.trim()) {
        (false, _) => "A private page".to_string(),
        (true, "") => "Untitled".to_string(),
        (true, t) => t.to_string(),
    };
    Entry {
        row,
        page_title,
        page_visible,
    }
}

/// The filtered activity as CSV (the newest `EXPORT_LIMIT` rows), cells
/// guarded against spreadsheet formulas as the audit export's are (S72).
pub fn export(
    c: &mut Conn,
    ws: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    id: &ConnectionId,
    ask: &Ask,
    when: impl Fn(i64) -> String,
) -> AppResult<Vec<u8>> {
    let filter = ask.filter()?;
    let (connection, _) = connections::manageable(c, ws, viewer, role, id)?;
    let rows = q::page_of(c, &connection.id, None, EXPORT_LIMIT, &filter)?;
    let csv_err = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "time", "last", "kind", "surface", "via", "page_id", "page", "count", "detail",
    ])
    .map_err(csv_err)?;
    for r in rows {
        let e = entry(viewer, r);
        let a = &e.row;
        let cells = [
            when(a.at),
            when(a.last_at),
            a.kind.to_string(),
            a.surface.to_string(),
            a.op.label().to_string(),
            a.page_id.to_string(),
            e.page_title.clone(),
            a.count.to_string(),
            a.detail.clone(),
        ];
        out.write_record(
            cells
                .iter()
                .map(|c| crate::domain::audit::csv_cell(c).into_owned()),
        )
        .map_err(csv_err)?;
    }
    out.into_inner()
        .map_err(|e| AppError::internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffer never holds more than `MAX_BUCKETS` buckets: a read of a
    /// new bucket past it is dropped and counted, a read of a bucket it
    /// holds still counts.
    #[test]
    fn the_read_buffer_is_bounded() {
        let b = Buffer::default();
        let conn = ConnectionId::new();
        let pages: Vec<PageId> = (0..MAX_BUCKETS).map(|_| PageId::new()).collect();
        for p in &pages {
            b.read(&conn, p, ActivityOp::McpFetch);
        }
        b.read(&conn, &pages[0], ActivityOp::McpFetch);
        b.read(&conn, &PageId::new(), ActivityOp::McpFetch);
        assert_eq!(b.pending(), MAX_BUCKETS);
        let counts = b.take();
        assert_eq!(counts.dropped, 1);
        let first = counts
            .buckets
            .iter()
            .find(|(k, _)| k.page == pages[0])
            .map(|(_, t)| t.count);
        assert_eq!(first, Some(2));
        assert_eq!(b.pending(), 0, "a flush takes everything");
    }
}
