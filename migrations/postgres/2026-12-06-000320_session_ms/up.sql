-- When a session began, in milliseconds: a person's sessions are capped and
-- the oldest end first (S77), which seconds cannot order for logins made
-- in the same second.
ALTER TABLE sessions ADD COLUMN created_ms BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET created_ms = created_at * 1000;
