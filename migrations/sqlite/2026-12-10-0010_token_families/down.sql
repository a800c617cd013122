CREATE TABLE refresh_tokens_old (
    hash          TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    parent_hash   TEXT,
    scope         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    revoked_at    BIGINT,
    resource      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
INSERT INTO refresh_tokens_old
    SELECT r.hash, f.connection_id, r.family_id, NULL, r.scope, r.created_at, r.expires_at,
           r.used_at, f.revoked_at, r.resource
      FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id;
UPDATE access_tokens SET revoked_at = (SELECT f.revoked_at FROM token_families f WHERE f.id = access_tokens.family_id)
 WHERE revoked_at IS NULL;
DROP TABLE refresh_tokens;
DROP TABLE legacy_refresh_families;
DROP TABLE token_families;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_connection_family ON refresh_tokens (connection_id, family_id);
