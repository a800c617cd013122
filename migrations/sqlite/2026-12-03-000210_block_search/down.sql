DROP TRIGGER blocks_fts_update;
DROP TRIGGER blocks_fts_delete;
DROP TRIGGER blocks_fts_insert;
DROP TABLE blocks_fts;
-- `seq` stays: harmless without the index, and dropping a primary key
-- means rebuilding the table again.
