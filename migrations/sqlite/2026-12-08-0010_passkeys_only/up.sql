-- Sign-in round 2 (issue 28): passkeys only, a passkey as the second step.
-- People who turned password sign-in off (they sign in with a passkey
-- only); the password hash stays in `users`, unused until it is back on.
CREATE TABLE password_off (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since   BIGINT NOT NULL
);
-- How a person's second step is taken: 'totp' (an authenticator app) or
-- 'passkey' (one of their passkeys; `secret_sealed` is then empty).
ALTER TABLE two_step ADD COLUMN method TEXT NOT NULL DEFAULT 'totp' CHECK (method IN ('totp', 'passkey'));
-- Two more ceremonies: the second step and Confirm it's you, each with one
-- of a known person's passkeys. The CHECK cannot be altered in SQLite, so
-- the table of ceremonies in progress (five minutes' worth, nothing a
-- person keeps) is made again.
DROP TABLE passkey_challenges;
CREATE TABLE passkey_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'second_step', 'reauth')),
    bound_to   TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);
