-- RFC 8707: the resources a grant was made for, space-separated URIs; ''
-- means none was asked, which is the Notion-compatible API ({issuer}/v1).
ALTER TABLE authorization_requests ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE authorization_codes ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN resource TEXT NOT NULL DEFAULT '';
