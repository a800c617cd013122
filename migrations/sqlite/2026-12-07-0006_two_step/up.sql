-- Two-step verification (issue 28 items 2 and 3).
-- A person's TOTP secret, sealed with the server's secret box. `enabled_at`
-- is NULL while enrolment waits for its first code; `last_step` is the last
-- RFC 6238 time step accepted, so a code is accepted once.
CREATE TABLE two_step (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    enabled_at    BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);
-- Ten single-use recovery codes per person, kept as SHA-256 of the user id
-- and the 80-bit code; `used_at` set when one is spent.
CREATE TABLE recovery_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
-- A password accepted, the second step not yet: bound to the browser by a
-- cookie whose SHA-256 is the key, single-use, short-lived. `ip_key` and
-- `ip_window` are the throttle unit the password step took, given back
-- when the second step succeeds.
CREATE TABLE pending_logins (
    id_hash    TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    replaces   TEXT,
    ip_key     TEXT NOT NULL,
    ip_window  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);
-- Enterprise workspaces whose owners require two-step verification.
CREATE TABLE two_step_required (
    workspace_id TEXT PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    set_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    set_at       BIGINT NOT NULL
);
