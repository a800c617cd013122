use diesel::prelude::*;

use crate::db::models::{
    ApplicationType, AuthMethod, Integration, IntegrationId, IntegrationKind, RedirectUri,
};
use crate::db::schema::{connections, integration_redirect_uris, integrations};
use crate::db::Conn;

pub fn insert(conn: &mut Conn, integration: &Integration, uris: &[String]) -> QueryResult<()> {
    diesel::insert_into(integrations::table)
        .values(integration)
        .execute(conn)?;
    insert_redirect_uris(conn, &integration.id, uris)
}

fn insert_redirect_uris(conn: &mut Conn, id: &IntegrationId, uris: &[String]) -> QueryResult<()> {
    let rows: Vec<RedirectUri> = uris
        .iter()
        .map(|u| RedirectUri {
            integration_id: id.clone(),
            uri: u.clone(),
        })
        .collect();
    crate::on_backend!(conn, |c| diesel::insert_into(
        integration_redirect_uris::table
    )
    .values(&rows)
    .execute(c))
    .map(|_| ())
}

pub fn by_id(conn: &mut Conn, id: &IntegrationId) -> QueryResult<Option<Integration>> {
    crate::db::native!(conn, |nc| {
        integrations::table
            .find(id)
            .select(Integration::as_select())
            .first(nc)
            .optional()
    })
}

pub fn by_client_id(conn: &mut Conn, client_id: &str) -> QueryResult<Option<Integration>> {
    crate::db::native!(conn, |nc| {
        integrations::table
            .filter(integrations::client_id.eq(client_id))
            .select(Integration::as_select())
            .first(nc)
            .optional()
    })
}

pub fn by_name(conn: &mut Conn, name: &str) -> QueryResult<Vec<Integration>> {
    crate::db::native!(conn, |nc| {
        integrations::table
            .filter(integrations::name.eq(name))
            .select(Integration::as_select())
            .load(nc)
    })
}

pub fn redirect_uris(conn: &mut Conn, id: &IntegrationId) -> QueryResult<Vec<String>> {
    crate::db::native!(conn, |nc| {
        integration_redirect_uris::table
            .filter(integration_redirect_uris::integration_id.eq(id))
            .order(integration_redirect_uris::uri.asc())
            .select(integration_redirect_uris::uri)
            .load(nc)
    })
}

/// Replaces an integration's redirect URIs in one statement pair; callers
/// hold a transaction.
pub fn replace_redirect_uris(
    conn: &mut Conn,
    id: &IntegrationId,
    uris: &[String],
) -> QueryResult<()> {
    diesel::delete(
        integration_redirect_uris::table.filter(integration_redirect_uris::integration_id.eq(id)),
    )
    .execute(conn)?;
    insert_redirect_uris(conn, id, uris)
}

/// Integrations a user created (My integrations), newest first.
pub fn created_by(
    conn: &mut Conn,
    user: &crate::db::models::UserId,
) -> QueryResult<Vec<Integration>> {
    crate::db::native!(conn, |nc| {
        integrations::table
            .filter(integrations::created_by.eq(user))
            .order((integrations::created_at.desc(), integrations::name.asc()))
            .select(Integration::as_select())
            .load(nc)
    })
}

/// The names of first-party integrations.
pub fn first_party_names(conn: &mut Conn) -> QueryResult<Vec<String>> {
    crate::db::native!(conn, |nc| {
        integrations::table
            .filter(integrations::first_party.eq(true))
            .select(integrations::name)
            .load(nc)
    })
}

/// Every public integration, by name: what **+ Add connection** offers.
pub fn public(conn: &mut Conn) -> QueryResult<Vec<Integration>> {
    crate::db::native!(conn, |nc| {
        integrations::table
            .filter(integrations::kind.eq(IntegrationKind::Public))
            // Clients that registered themselves are nobody's pick to offer.
            .filter(integrations::dynamic.eq(false))
            .order(integrations::name.asc())
            .select(Integration::as_select())
            .load(nc)
    })
}

/// Replaces the stored secret hash; the old secret stops working with this
/// statement, since every client authentication reads the row afresh.
pub fn set_secret_hash(conn: &mut Conn, id: &IntegrationId, hash: &str) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(integrations::table.find(id))
            .set(integrations::client_secret_hash.eq(Some(hash)))
            .execute(nc)
    })
}

/// Deletes an integration; its redirect URIs, connections, tokens, codes,
/// pending requests and approvals go with it (ON DELETE CASCADE).
pub fn delete(conn: &mut Conn, id: &IntegrationId) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::delete(integrations::table.find(id)).execute(nc)
    })
}

/// What a dynamic client may change about itself (RFC 7592 update).
#[derive(AsChangeset)]
#[diesel(table_name = integrations, treat_none_as_null = true)]
pub struct DynamicUpdate {
    pub name: String,
    pub developer_name: String,
    pub capabilities: String,
    pub application_type: Option<ApplicationType>,
    pub token_endpoint_auth_method: Option<AuthMethod>,
    pub client_uri: Option<String>,
    pub website_url: Option<String>,
    pub logo_uri: Option<String>,
}

pub fn update_dynamic(
    conn: &mut Conn,
    id: &IntegrationId,
    u: &DynamicUpdate,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(integrations::table.find(id))
            .filter(integrations::dynamic.eq(true))
            .set(u)
            .execute(nc)
    })
}

/// Deletes dynamic and CIMD clients that never got a connection and that
/// no authorization request named since `cutoff` (what went with them
/// cascades), leaving a tombstone for each (S71, issue 25 #5); returns how
/// many.
pub fn purge_unused_dynamic(conn: &mut Conn, cutoff: i64, now: i64) -> QueryResult<usize> {
    use crate::db::schema::client_tombstones as tomb;
    let used = connections::table.select(connections::integration_id);
    let unused = integrations::table
        .filter(integrations::dynamic.eq(true))
        .filter(integrations::created_at.lt(cutoff))
        .filter(
            integrations::last_used_at
                .is_null()
                .or(integrations::last_used_at.lt(cutoff)),
        )
        .filter(integrations::id.ne_all(used));
    let gone: Vec<(IntegrationId, String, String)> = unused
        .select((
            integrations::id,
            integrations::client_id,
            integrations::name,
        ))
        .load(conn)?;
    for (id, client_id, name) in &gone {
        // Replaced, not upserted: the backend-neutral connection has no
        // ON CONFLICT, and the caller holds a write transaction.
        diesel::delete(tomb::table.find(client_id)).execute(conn)?;
        diesel::insert_into(tomb::table)
            .values((
                tomb::client_id.eq(client_id),
                tomb::name.eq(name),
                tomb::purged_at.eq(now),
            ))
            .execute(conn)?;
        diesel::delete(integrations::table.find(id)).execute(conn)?;
    }
    Ok(gone.len())
}

/// Records that an authorization request named client `id` now, unless it
/// was recorded within the last `gap` seconds (the purge counts from it).
pub fn touch_used(conn: &mut Conn, id: &IntegrationId, now: i64, gap: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(integrations::table.find(id))
            .filter(
                integrations::last_used_at
                    .is_null()
                    .or(integrations::last_used_at.le(now - gap)),
            )
            .set(integrations::last_used_at.eq(Some(now)))
            .execute(nc)
    })
}

/// The name of the purged client `client_id`, while its tombstone lasts.
pub fn tombstone(conn: &mut Conn, client_id: &str) -> QueryResult<Option<String>> {
    use crate::db::schema::client_tombstones as tomb;
    tomb::table
        .find(client_id)
        .select(tomb::name)
        .first(conn)
        .optional()
}

/// Forgets tombstones older than `cutoff`, and the oldest beyond `max`.
pub fn trim_tombstones(conn: &mut Conn, cutoff: i64, max: i64) -> QueryResult<usize> {
    use crate::db::schema::client_tombstones as tomb;
    let mut n = diesel::delete(tomb::table.filter(tomb::purged_at.lt(cutoff))).execute(conn)?;
    // The newest row past the first `max`: it and every older one go.
    let first_dropped: Option<(i64, String)> = tomb::table
        .select((tomb::purged_at, tomb::client_id))
        .order((tomb::purged_at.desc(), tomb::client_id.desc()))
        .offset(max)
        .first(conn)
        .optional()?;
    if let Some((t, id)) = first_dropped {
        n += diesel::delete(
            tomb::table.filter(
                tomb::purged_at
                    .lt(t)
                    .or(tomb::purged_at.eq(t).and(tomb::client_id.le(id))),
            ),
        )
        .execute(conn)?;
    }
    Ok(n)
}

/// Marks a CIMD client's cached document fresh until `expires_at`.
pub fn set_cimd_expiry(conn: &mut Conn, id: &IntegrationId, expires_at: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(integrations::table.find(id))
            .filter(integrations::dynamic.eq(true))
            .set(integrations::cimd_expires_at.eq(Some(expires_at)))
            .execute(nc)
    })
}

/// Marks an integration reviewed by the operator (issue 27 item 1).
pub fn set_reviewed(conn: &mut Conn, id: &IntegrationId, at: i64) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::update(integrations::table.find(id))
            .set(integrations::reviewed_at.eq(Some(at)))
            .execute(nc)
            .map(|_| ())
    })
}
