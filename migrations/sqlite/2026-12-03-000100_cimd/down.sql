ALTER TABLE integrations DROP COLUMN cimd_expires_at;
