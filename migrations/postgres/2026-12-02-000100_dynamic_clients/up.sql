-- Clients that registered themselves (RFC 7591): how the integration came to
-- be, the SHA-256 of its registration access token (RFC 7592), and the
-- metadata they sent that pagegrant keeps.
ALTER TABLE integrations ADD COLUMN dynamic BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE integrations ADD COLUMN registration_token_hash TEXT;
ALTER TABLE integrations ADD COLUMN application_type TEXT;
ALTER TABLE integrations ADD COLUMN token_endpoint_auth_method TEXT;
ALTER TABLE integrations ADD COLUMN client_uri TEXT;
ALTER TABLE integrations ADD COLUMN logo_uri TEXT;
CREATE INDEX integrations_dynamic_created ON integrations (dynamic, created_at);
