DROP INDEX access_tokens_connection_family;
CREATE INDEX access_tokens_family ON access_tokens (family_id);
CREATE INDEX access_tokens_connection ON access_tokens (connection_id);
DROP INDEX refresh_tokens_connection_family;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_connection ON refresh_tokens (connection_id);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_family ON authorization_codes (family_id);
