ALTER TABLE internal_tokens DROP COLUMN shown_to_others;
