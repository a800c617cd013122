ALTER TABLE authorization_requests DROP COLUMN created_ms;
