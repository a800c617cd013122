use diesel::prelude::*;

use crate::db::models::{AuditEvent, NewAuditEvent, WorkspaceId};
use crate::db::schema::audit_events;
use crate::db::Conn;

pub fn record(conn: &mut Conn, e: &NewAuditEvent) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(e)
        .execute(conn)
        .map(|_| ())
}

/// A workspace's events, newest first.
pub fn for_workspace(conn: &mut Conn, ws: &WorkspaceId) -> QueryResult<Vec<AuditEvent>> {
    audit_events::table
        .filter(audit_events::workspace_id.eq(ws))
        .order((audit_events::at.desc(), audit_events::id.desc()))
        .select(AuditEvent::as_select())
        .load(conn)
}

/// Up to `limit` of a workspace's events, newest first (by id, which only
/// grows), those before event `before` when given: one page of the log.
pub fn page_of_workspace(
    conn: &mut Conn,
    ws: &WorkspaceId,
    before: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let mut q = audit_events::table
        .filter(audit_events::workspace_id.eq(ws))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(audit_events::id.lt(b));
    }
    q.order(audit_events::id.desc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)
}

/// Events `actor` (as stored) recorded at or after `since`.
pub fn count_by_actor_since(conn: &mut Conn, actor: &str, since: i64) -> QueryResult<i64> {
    audit_events::table
        .filter(audit_events::actor.eq(actor))
        .filter(audit_events::at.ge(since))
        .count()
        .get_result(conn)
}
