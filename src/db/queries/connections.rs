use diesel::prelude::*;

use crate::db::models::{Connection, ConnectionId, ConnectionPage, InternalToken, PageId};
use crate::db::schema::{connection_pages, connections, internal_tokens};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, c: &Connection) -> QueryResult<()> {
    diesel::insert_into(connections::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn by_id(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Option<Connection>> {
    connections::table
        .find(id)
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

pub fn insert_internal_token(conn: &mut Conn, t: &InternalToken) -> QueryResult<()> {
    diesel::insert_into(internal_tokens::table)
        .values(t)
        .execute(conn)
        .map(|_| ())
}

/// Shares a page with a connection; sharing it twice changes nothing.
pub fn add_page(conn: &mut Conn, cp: &ConnectionPage) -> QueryResult<bool> {
    diesel::insert_into(connection_pages::table)
        .values(cp)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n > 0)
}

pub fn page_ids(conn: &mut Conn, id: &ConnectionId) -> QueryResult<Vec<PageId>> {
    connection_pages::table
        .filter(connection_pages::connection_id.eq(id))
        .select(connection_pages::page_id)
        .load(conn)
}
