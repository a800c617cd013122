DROP TABLE client_tombstones;
ALTER TABLE integrations DROP COLUMN last_used_at;
