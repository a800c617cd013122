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
);
INSERT INTO refresh_tokens_old SELECT * FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_connection ON refresh_tokens (connection_id);

CREATE TABLE access_tokens_old (
    jti           TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
INSERT INTO access_tokens_old SELECT * FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_old RENAME TO access_tokens;
CREATE INDEX access_tokens_family ON access_tokens (family_id);
CREATE INDEX access_tokens_connection ON access_tokens (connection_id);

CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_family ON authorization_codes (family_id);
