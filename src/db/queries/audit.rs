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
