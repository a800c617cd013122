-- Issue 27 item 1: when the operator vouched for an integration with
-- `pagegrant integration review ID`. Reviewed integrations join
-- **+ Add connection** in every workspace and lose "Unverified developer".
ALTER TABLE integrations ADD COLUMN reviewed_at BIGINT;

-- Issue 27 item 3: a member blocked by "Only from approved list" asks the
-- owners to approve an integration. One row per (workspace, integration,
-- member): at most one request is pending, and the latest answer stays
-- for the member to read.
CREATE TABLE approval_requests (
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    requested_by   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note           TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    answered_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    answered_at    BIGINT,
    PRIMARY KEY (workspace_id, integration_id, requested_by)
);
CREATE INDEX approval_requests_pending ON approval_requests (workspace_id, status);
