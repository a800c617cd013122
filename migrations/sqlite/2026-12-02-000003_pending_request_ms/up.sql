-- When a pending consent was recorded, in milliseconds: a session keeps only
-- its newest 20 (issue 15 #3), and whole seconds cannot tell which of a
-- burst of views is the oldest.
ALTER TABLE authorization_requests ADD COLUMN created_ms BIGINT NOT NULL DEFAULT 0;
