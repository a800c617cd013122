-- Invitations (issue 27 item 5): an owner adds someone who has no account
-- yet. The link carries a 256-bit token; only its SHA-256 is kept. A row
-- is `pending` until the link is used (`accepted`), an owner revokes it
-- (`revoked`) or a new invitation to the same address replaces it
-- (`replaced`); expiry is `expires_at` passing. At most one pending
-- invitation per workspace and address.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'revoked', 'replaced')),
    ended_at     BIGINT,
    accepted_by  TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX invitations_workspace ON invitations (workspace_id, state, created_at);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (workspace_id, email) WHERE state = 'pending';
