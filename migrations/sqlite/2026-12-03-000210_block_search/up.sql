-- Search over block text (issue 18 part 5) with FTS5. An external-content
-- FTS table needs a rowid that VACUUM (and VACUUM INTO, our backup) keeps,
-- so `blocks` gets an INTEGER PRIMARY KEY (`seq`, never used outside
-- search) and keeps `id` as its unique key. Triggers keep the index in
-- step with every write; trashed blocks stay indexed and are filtered by
-- the query.
CREATE TABLE blocks_new (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
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
INSERT INTO blocks_new (id, page_id, position, type, rich_text, plain_text, checked, language,
                        created_at, created_by, created_by_kind, last_edited_at, last_edited_by,
                        last_edited_by_kind, in_trash)
    SELECT id, page_id, position, type, rich_text, plain_text, checked, language,
           created_at, created_by, created_by_kind, last_edited_at, last_edited_by,
           last_edited_by_kind, in_trash FROM blocks;
DROP TABLE blocks;
ALTER TABLE blocks_new RENAME TO blocks;
CREATE INDEX blocks_page_position ON blocks (page_id, position, id);

CREATE VIRTUAL TABLE blocks_fts USING fts5 (
    plain_text,
    content = 'blocks',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO blocks_fts (blocks_fts) VALUES ('rebuild');
CREATE TRIGGER blocks_fts_insert AFTER INSERT ON blocks BEGIN
    INSERT INTO blocks_fts (rowid, plain_text) VALUES (new.seq, new.plain_text);
END;
CREATE TRIGGER blocks_fts_delete AFTER DELETE ON blocks BEGIN
    INSERT INTO blocks_fts (blocks_fts, rowid, plain_text) VALUES ('delete', old.seq, old.plain_text);
END;
CREATE TRIGGER blocks_fts_update AFTER UPDATE OF plain_text ON blocks BEGIN
    INSERT INTO blocks_fts (blocks_fts, rowid, plain_text) VALUES ('delete', old.seq, old.plain_text);
    INSERT INTO blocks_fts (rowid, plain_text) VALUES (new.seq, new.plain_text);
END;
