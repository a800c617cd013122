ALTER TABLE sessions DROP COLUMN created_ms;
