DROP TABLE approval_requests;
ALTER TABLE integrations DROP COLUMN reviewed_at;
