DROP INDEX integrations_dynamic_created;
ALTER TABLE integrations DROP COLUMN logo_uri;
ALTER TABLE integrations DROP COLUMN client_uri;
ALTER TABLE integrations DROP COLUMN token_endpoint_auth_method;
ALTER TABLE integrations DROP COLUMN application_type;
ALTER TABLE integrations DROP COLUMN registration_token_hash;
ALTER TABLE integrations DROP COLUMN dynamic;
