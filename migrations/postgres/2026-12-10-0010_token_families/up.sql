-- A token family becomes a row of its own, and the refresh tokens are keyed
-- by it (issue 30 item 1; see the SQLite migration of the same name for
-- what a rotation wrote before and writes now). Revocation is the
-- family's; access tokens name their family in a claim, so grants write no
-- access-token row and `access_tokens` keeps only the rows issued before.

CREATE TABLE token_families (
    id            TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX token_families_connection ON token_families (connection_id);

-- A family was revoked as a whole, so any revoked token means a revoked family.
INSERT INTO token_families (id, connection_id, created_at, revoked_at)
    SELECT family_id, MIN(connection_id), MIN(at), MAX(revoked_at) FROM (
        SELECT family_id, connection_id, created_at AS at, revoked_at FROM refresh_tokens
        UNION ALL
        SELECT family_id, connection_id, issued_at AS at, revoked_at FROM access_tokens
    ) AS t
    GROUP BY family_id;

-- Tokens issued before this migration do not name their family.
CREATE TABLE legacy_refresh_families (
    hash      TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE
);
INSERT INTO legacy_refresh_families (hash, family_id) SELECT hash, family_id FROM refresh_tokens;
CREATE INDEX legacy_refresh_families_family ON legacy_refresh_families (family_id);

DROP INDEX refresh_tokens_connection_family;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens DROP COLUMN connection_id;
ALTER TABLE refresh_tokens DROP COLUMN parent_hash;
ALTER TABLE refresh_tokens DROP COLUMN revoked_at;
ALTER TABLE refresh_tokens ADD PRIMARY KEY (family_id, hash);
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_family_fkey
    FOREIGN KEY (family_id) REFERENCES token_families (id) ON DELETE CASCADE;
