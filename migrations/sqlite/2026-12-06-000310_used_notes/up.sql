-- One-time notes (a client secret or token shown once after a POST) that
-- have been opened: a replayed sealed cookie finds its id here and shows
-- nothing (S80). Rows go once the note could no longer be opened anyway.
CREATE TABLE used_notes (
    id         TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_notes_expires ON used_notes (expires_at);
