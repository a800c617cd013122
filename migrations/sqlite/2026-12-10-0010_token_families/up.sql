-- A token family becomes a row of its own, and the refresh tokens are keyed
-- by it (issue 30 item 1: what a refresh writes).
--
-- Before: a rotation wrote the used token's leaf, the new token's leaf (its
-- key a random hash), its (connection_id, family_id) index leaf, the access
-- token's row and its index leaf: about 6.7 WAL pages per grant.
--
-- After: a refresh token names its family (`nrt_<family>.<secret>`), the
-- table's key is (family_id, hash), so the used token and its successor sit
-- on one leaf, and there is no secondary index; families are time-ordered,
-- so a new family's rows append. Revocation is the family's: `revoked_at`
-- moves from every token to `token_families`, whose (connection_id) index
-- is written once per authorization, not per rotation. Access tokens name
-- their family in a claim (`fam`), so a grant writes no access-token row;
-- `access_tokens` keeps the rows issued before this migration (read for
-- their family until they expire, never written again).

CREATE TABLE token_families (
    id            TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
) WITHOUT ROWID;
CREATE INDEX token_families_connection ON token_families (connection_id);

-- A family was revoked as a whole (revoke_family, revoke_connection_tokens
-- set every token's revoked_at), so any revoked token means a revoked family.
INSERT INTO token_families (id, connection_id, created_at, revoked_at)
    SELECT family_id, MIN(connection_id), MIN(at), MAX(revoked_at) FROM (
        SELECT family_id, connection_id, created_at AS at, revoked_at FROM refresh_tokens
        UNION ALL
        SELECT family_id, connection_id, issued_at AS at, revoked_at FROM access_tokens
    ) AS t
    GROUP BY family_id;

CREATE TABLE refresh_tokens_new (
    family_id  TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    resource   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (family_id, hash)
) WITHOUT ROWID;
INSERT INTO refresh_tokens_new (family_id, hash, scope, created_at, expires_at, used_at, resource)
    SELECT family_id, hash, scope, created_at, expires_at, used_at, resource FROM refresh_tokens;

-- Tokens issued before this migration do not name their family: it is
-- found here by the token's hash (read-only; empties as they expire).
CREATE TABLE legacy_refresh_families (
    hash      TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO legacy_refresh_families (hash, family_id) SELECT hash, family_id FROM refresh_tokens;
CREATE INDEX legacy_refresh_families_family ON legacy_refresh_families (family_id);

DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
