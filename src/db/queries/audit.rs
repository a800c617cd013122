use diesel::prelude::*;

use crate::db::models::{AuditEvent, NewAuditEvent, WorkspaceId};
use crate::db::schema::audit_events;
use crate::db::Conn;

pub fn record(conn: &mut Conn, e: &NewAuditEvent) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(audit_events::table)
            .values(e)
            .execute(nc)
            .map(|_| ())
    })
}

/// A workspace's events, newest first.
pub fn for_workspace(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<Vec<AuditEvent>> {
    crate::db::native!(conn, |nc| {
        audit_events::table
            .filter(audit_events::workspace_id.eq(ws))
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .select(AuditEvent::as_select())
            .load(nc)
    })
}

/// Which events a reader asks for; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The actor as stored (a user id, `client:…`).
    pub actor: Option<String>,
    pub actions: Option<Vec<String>>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

/// Up to `limit` of a workspace's events, newest first (by id, which only
/// grows), those before event `before` when given: one page of the log.
pub fn page_of_workspace(
    conn: &mut Conn,
    ws: &WorkspaceId,
    before: Option<i32>,
    limit: i64,
    f: &Filter,
) -> QueryResult<Vec<AuditEvent>> {
    let mut q = audit_events::table
        .filter(audit_events::workspace_id.eq(ws))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(audit_events::id.lt(b));
    }
    if let Some(a) = &f.actor {
        q = q.filter(audit_events::actor.eq(a.clone()));
    }
    if let Some(actions) = &f.actions {
        q = q.filter(audit_events::action.eq_any(actions.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_events::at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(audit_events::at.lt(t));
    }
    q.order(audit_events::id.desc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)
}

/// Events `actor` (as stored) recorded at or after `since`.
pub fn count_by_actor_since(conn: &mut Conn, actor: &str, since: i64) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| {
        audit_events::table
            .filter(audit_events::actor.eq(actor))
            .filter(audit_events::at.ge(since))
            .count()
            .get_result(nc)
    })
}

/// Events with one of `actions` about `target` (as stored) at or after
/// `since`: a connection's recent bot writes.
pub fn count_for_target_since(
    conn: &mut Conn,
    target: &str,
    actions: &[&str],
    since: i64,
) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| {
        audit_events::table
            .filter(audit_events::target.eq(target))
            .filter(audit_events::at.ge(since))
            .filter(audit_events::action.eq_any(actions))
            .count()
            .get_result(nc)
    })
}

/// The newest `action` event about `target` at or after `since`.
pub fn latest_for_target_since(
    conn: &mut Conn,
    target: &str,
    action: &str,
    since: i64,
) -> QueryResult<Option<AuditEvent>> {
    crate::db::native!(conn, |nc| {
        audit_events::table
            .filter(audit_events::target.eq(target))
            .filter(audit_events::at.ge(since))
            .filter(audit_events::action.eq(action))
            .order(audit_events::id.desc())
            .select(AuditEvent::as_select())
            .first(nc)
            .optional()
    })
}

/// Rewrites one event's detail: only a summarising event's count changes
/// after it is recorded.
pub fn set_detail(conn: &mut Conn, id: i32, detail: &str) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::update(audit_events::table.find(id))
            .set(audit_events::detail.eq(detail))
            .execute(nc)
            .map(|_| ())
    })
}

/// Whether an event `action` about `target` was recorded before event
/// `before` (ids only grow): a connection granted again is a reconnect.
pub fn recorded_before(
    conn: &mut Conn,
    target: &str,
    action: &str,
    before: i32,
) -> QueryResult<bool> {
    use diesel::dsl::exists;
    diesel::select(exists(
        audit_events::table
            .filter(audit_events::target.eq(target))
            .filter(audit_events::action.eq(action))
            .filter(audit_events::id.lt(before)),
    ))
    .get_result(conn)
}
