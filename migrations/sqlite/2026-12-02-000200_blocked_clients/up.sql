-- Dynamic clients an owner blocked in a workspace (SECURITY S67): their
-- connections there ended, and new consents there are refused.
CREATE TABLE blocked_clients (
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    blocked_by     TEXT NOT NULL REFERENCES users (id),
    blocked_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, integration_id)
);
