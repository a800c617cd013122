ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_family_fkey;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ADD COLUMN connection_id TEXT REFERENCES connections (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD COLUMN parent_hash TEXT;
ALTER TABLE refresh_tokens ADD COLUMN revoked_at BIGINT;
UPDATE refresh_tokens r SET connection_id = f.connection_id, revoked_at = f.revoked_at
  FROM token_families f WHERE f.id = r.family_id;
ALTER TABLE refresh_tokens ALTER COLUMN connection_id SET NOT NULL;
ALTER TABLE refresh_tokens ADD PRIMARY KEY (hash);
CREATE INDEX refresh_tokens_connection_family ON refresh_tokens (connection_id, family_id);
UPDATE access_tokens a SET revoked_at = f.revoked_at
  FROM token_families f WHERE f.id = a.family_id AND a.revoked_at IS NULL;
DROP TABLE legacy_refresh_families;
DROP TABLE token_families;
