-- Page access requests (issue 29 item 1): an agent (MCP `request_access`)
-- or an API integration (`POST /v1/access_requests`) asks, on its own
-- connection, for more pages; the person who made the connection (or a
-- workspace owner) answers on `/requests/{id}` with **Share** or
-- **Decline**. `reason` is the agent's own words (at most 500 characters),
-- `search` its optional search words (at most 200), `via` the surface it
-- asked through (`mcp` or `api`). A row is `pending` until answered
-- (`shared`, with the page ids added in `pages`, space-separated;
-- `declined`) or until `expires_at` passes (`expired`, written when read).
CREATE TABLE access_requests (
    id            TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    via           TEXT NOT NULL CHECK (via IN ('mcp', 'api')),
    reason        TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    search        TEXT NOT NULL DEFAULT '' CHECK (length(search) <= 800),
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'shared', 'declined', 'expired')),
    pages         TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    answered_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    answered_at   BIGINT
);
CREATE INDEX access_requests_connection ON access_requests (connection_id, state, created_at);
