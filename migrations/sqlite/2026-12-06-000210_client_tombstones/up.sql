-- When an authorization request last named a dynamic or CIMD client: the
-- purge of unused clients counts registration.unused_ttl_s from here (or
-- from created_at when NULL), so an app that keeps starting sign-ins keeps
-- its client. Written at most once a minute per client.
ALTER TABLE integrations ADD COLUMN last_used_at BIGINT;

-- The client ids the purge deleted, kept registration.tombstone_ttl_s (at
-- most registration.max_tombstones rows), so an app still holding one is
-- told to start signing in again instead of "no integration".
CREATE TABLE client_tombstones (
    client_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    purged_at BIGINT NOT NULL
);
CREATE INDEX client_tombstones_purged_at ON client_tombstones (purged_at);
