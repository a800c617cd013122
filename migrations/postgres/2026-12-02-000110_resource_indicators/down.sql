ALTER TABLE refresh_tokens DROP COLUMN resource;
ALTER TABLE authorization_codes DROP COLUMN resource;
ALTER TABLE authorization_requests DROP COLUMN resource;
