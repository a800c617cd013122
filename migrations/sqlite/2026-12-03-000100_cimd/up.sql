-- Clients identified by a Client ID Metadata Document (CIMD): the client_id
-- is the document's https URL, and the integration row is the cache of the
-- document, shared by every instance. NULL for every other integration; for a
-- CIMD client, when the document must be fetched again (Cache-Control
-- max-age, clamped to registration.cimd_cache_min_s..cimd_cache_max_s).
ALTER TABLE integrations ADD COLUMN cimd_expires_at BIGINT;
