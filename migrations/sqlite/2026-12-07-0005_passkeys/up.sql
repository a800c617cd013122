-- Passkeys (issue 28 item 1). A person's WebAuthn credentials: `credential`
-- is webauthn-rs's `Passkey` as JSON (public key, counter, flags; no secret),
-- `cred_id` its credential id (base64url), unique across all people.
CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    cred_id      TEXT NOT NULL UNIQUE,
    credential   TEXT NOT NULL,
    counter      BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);
-- A ceremony in progress: the challenge's server-side state (JSON), bound to
-- the session that asked (registration) or to the login page's CSRF cookie
-- (sign-in), used at most once, gone after `expires_at`.
CREATE TABLE passkey_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('register', 'login')),
    bound_to   TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);
