-- Page content (DESIGN §8, issue 18): one row per block, in `position`
-- order within its page. Positions leave gaps (appends add a step, an
-- insertion takes the middle of a gap; a full gap renumbers the page).
-- `rich_text` is the JSON of the spans (domain::content::Span), `plain_text`
-- their text without annotations, for search. Authors are a user id or a
-- connection's bot id, told apart by the `*_kind` column (no foreign key:
-- the id names one of two tables, and a block outlives its connection).
CREATE TABLE blocks (
    id                  TEXT PRIMARY KEY NOT NULL,
    page_id             TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    position            BIGINT NOT NULL,
    type                TEXT NOT NULL,
    rich_text           TEXT NOT NULL DEFAULT '[]',
    plain_text          TEXT NOT NULL DEFAULT '',
    checked             BOOLEAN NOT NULL DEFAULT FALSE,
    language            TEXT,
    created_at          BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    created_by_kind     TEXT NOT NULL CHECK (created_by_kind IN ('user', 'bot')),
    last_edited_at      BIGINT NOT NULL,
    last_edited_by      TEXT NOT NULL,
    last_edited_by_kind TEXT NOT NULL CHECK (last_edited_by_kind IN ('user', 'bot')),
    in_trash            BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX blocks_page_position ON blocks (page_id, position, id);
