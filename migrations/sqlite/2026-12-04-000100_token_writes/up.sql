-- Fewer pages written per grant (issue 20). The token tables become
-- WITHOUT ROWID (the primary key is the table: one B-tree per insert
-- instead of a rowid table plus its key's index), and their two secondary
-- indexes become one: (connection_id, family_id) serves revoking a
-- connection's tokens, a family's (the connection is always known), and
-- the cascade from connections. Codes lose two indexes no query reads.
DROP INDEX authorization_codes_family;
DROP INDEX authorization_codes_expiry;

CREATE TABLE refresh_tokens_new (
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
INSERT INTO refresh_tokens_new
    SELECT hash, connection_id, family_id, parent_hash, scope, created_at, expires_at, used_at, revoked_at, resource
      FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_connection_family ON refresh_tokens (connection_id, family_id);

CREATE TABLE access_tokens_new (
    jti           TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
) WITHOUT ROWID;
INSERT INTO access_tokens_new
    SELECT jti, connection_id, family_id, scope, issued_at, expires_at, revoked_at FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_new RENAME TO access_tokens;
CREATE INDEX access_tokens_connection_family ON access_tokens (connection_id, family_id);
