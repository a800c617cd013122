-- The whole pagegrant data model (DESIGN §2). Ids are UUID text, times are
-- unix seconds (BIGINT), booleans are BOOLEAN: types SQLite and PostgreSQL share.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash TEXT NOT NULL,
    avatar_url    TEXT,
    created_at    BIGINT NOT NULL
);

-- Server-side sessions; the cookie carries a random id, the table its SHA-256.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE workspaces (
    id                       TEXT PRIMARY KEY NOT NULL,
    name                     TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    icon                     TEXT,
    plan                     TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'plus', 'business', 'enterprise')),
    install_policy           TEXT NOT NULL DEFAULT 'open' CHECK (install_policy IN ('open', 'approved_only')),
    auto_approve_first_party BOOLEAN NOT NULL DEFAULT FALSE,
    created_at               BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE pages (
    id             TEXT PRIMARY KEY NOT NULL,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    parent_id      TEXT REFERENCES pages (id) ON DELETE CASCADE,
    title          TEXT NOT NULL CHECK (length(title) <= 2000),
    visibility     TEXT NOT NULL DEFAULT 'workspace' CHECK (visibility IN ('workspace', 'private')),
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    last_edited_at BIGINT NOT NULL,
    in_trash       BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX pages_parent ON pages (parent_id);
CREATE INDEX pages_workspace_parent ON pages (workspace_id, parent_id);
CREATE INDEX pages_workspace_edited ON pages (workspace_id, last_edited_at);

CREATE TABLE integrations (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind               TEXT NOT NULL CHECK (kind IN ('public', 'internal')),
    client_id          TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT,
    client_type        TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
    developer_name     TEXT NOT NULL,
    website_url        TEXT,
    support_email      TEXT,
    icon               TEXT,
    first_party        BOOLEAN NOT NULL DEFAULT FALSE,
    capabilities       TEXT NOT NULL,
    created_by         TEXT REFERENCES users (id) ON DELETE SET NULL,
    workspace_id       TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at         BIGINT NOT NULL,
    -- internal integrations belong to one workspace, public ones to none
    CHECK ((kind = 'internal') = (workspace_id IS NOT NULL)),
    -- a confidential client has a secret, a public client never does
    CHECK ((client_type = 'confidential') = (client_secret_hash IS NOT NULL))
);
CREATE INDEX integrations_creator ON integrations (created_by);

CREATE TABLE integration_redirect_uris (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    uri            TEXT NOT NULL CHECK (length(uri) BETWEEN 1 AND 2000),
    PRIMARY KEY (integration_id, uri)
);

-- One connection per (integration, workspace, installing user): re-authorizing
-- reuses it and re-activates a revoked one, keeping its bot_id.
CREATE TABLE connections (
    id             TEXT PRIMARY KEY NOT NULL,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    installed_by   TEXT NOT NULL REFERENCES users (id),
    bot_id         TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_by     TEXT REFERENCES users (id),
    UNIQUE (integration_id, workspace_id, installed_by),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX connections_workspace ON connections (workspace_id, status);
CREATE INDEX connections_installer ON connections (installed_by);

-- The page-scoped grant: a connection sees these pages and their descendants.
CREATE TABLE connection_pages (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    page_id       TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    added_by      TEXT NOT NULL REFERENCES users (id),
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (connection_id, page_id)
);
CREATE INDEX connection_pages_page ON connection_pages (page_id);

-- A pending consent: an approval is bound to one request and used once.
CREATE TABLE authorization_requests (
    id                    TEXT PRIMARY KEY NOT NULL,
    session_id_hash       TEXT NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    integration_id        TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    redirect_uri_sent     BOOLEAN NOT NULL,
    state                 TEXT,
    scope                 TEXT NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT CHECK (code_challenge_method IS NULL OR code_challenge_method = 'S256'),
    workspace_id          TEXT REFERENCES workspaces (id) ON DELETE SET NULL,
    csrf_binding          TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    consumed_at           BIGINT
);
CREATE INDEX authorization_requests_session ON authorization_requests (session_id_hash);
CREATE INDEX authorization_requests_expiry ON authorization_requests (expires_at);

CREATE TABLE authorization_codes (
    code_hash             TEXT PRIMARY KEY NOT NULL,
    integration_id        TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    connection_id         TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    redirect_uri          TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT CHECK (code_challenge_method IS NULL OR code_challenge_method = 'S256'),
    scope                 TEXT NOT NULL,
    family_id             TEXT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    consumed_at           BIGINT
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_family ON authorization_codes (family_id);

-- A family is the chain of tokens from one code.
CREATE TABLE refresh_tokens (
    hash          TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    parent_hash   TEXT,
    scope         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_connection ON refresh_tokens (connection_id);

CREATE TABLE access_tokens (
    jti           TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX access_tokens_family ON access_tokens (family_id);
CREATE INDEX access_tokens_connection ON access_tokens (connection_id);

-- An internal integration's token: SHA-256 for lookup, AES-GCM copy so owners
-- can retrieve it again.
CREATE TABLE internal_tokens (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    hash          TEXT NOT NULL UNIQUE,
    encrypted     TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE approved_integrations (
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    approved_by    TEXT NOT NULL REFERENCES users (id),
    approved_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, integration_id)
);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    actor        TEXT,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    at           BIGINT NOT NULL
);
CREATE INDEX audit_events_workspace ON audit_events (workspace_id, at);

-- Failure counters for throttling (passwords now, client secrets later); in the
-- database so several instances share them.
CREATE TABLE auth_failures (
    key          TEXT PRIMARY KEY NOT NULL,
    failures     INTEGER NOT NULL,
    window_start BIGINT NOT NULL
);
