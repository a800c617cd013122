-- Sign-in round 2 (issue 28): passkeys only, a passkey as the second step.
-- People who turned password sign-in off (they sign in with a passkey
-- only); the password hash stays in `users`, unused until it is back on.
CREATE TABLE password_off (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since   BIGINT NOT NULL
);
-- How a person's second step is taken: 'totp' (an authenticator app) or
-- 'passkey' (one of their passkeys; `secret_sealed` is then empty).
ALTER TABLE two_step ADD COLUMN method TEXT NOT NULL DEFAULT 'totp';
