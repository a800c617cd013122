-- What each connection did (issue 29 item 3): its reads, one row per page,
-- route or tool and hour with a count (`read_key` names that bucket, so a
-- flush adds to it with one upsert), and its writes, one row each. Agent
-- reads never go to the audit log; this table is kept `agents.activity_days`.
CREATE TABLE connection_activity (
    id            SERIAL PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    page_id       TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('read', 'write')),
    surface       TEXT NOT NULL CHECK (surface IN ('api', 'mcp')),
    op            TEXT NOT NULL,
    at            BIGINT NOT NULL,
    last_at       BIGINT NOT NULL,
    count         BIGINT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    read_key      TEXT UNIQUE
);
CREATE INDEX connection_activity_connection ON connection_activity (connection_id, at);
CREATE INDEX connection_activity_at ON connection_activity (at);
