-- Your devices (issue 28 item 5): what each session was started from and
-- when it was last used, shown on My account → Sessions; and when its
-- person last proved who they are (issue 28 item 4, re-authentication).
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN proved_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at, proved_at = created_at;
