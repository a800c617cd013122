-- Key material every instance shares. Private parts are sealed (AES-256-GCM)
-- under the master key, which never enters the database.

-- ES256 signing keys: every one is in the JWKS and verifies tokens; the
-- newest signs. `pagegrant keys rotate` adds one.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY NOT NULL,
    private_sealed  TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- Symmetric keys by purpose ('secret_box': internal-token copies, cursors).
CREATE TABLE sealed_keys (
    name        TEXT PRIMARY KEY NOT NULL,
    key_sealed  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
