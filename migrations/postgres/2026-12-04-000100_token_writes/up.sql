-- Fewer index writes per grant (issue 20): the token tables' two secondary
-- indexes become one on (connection_id, family_id), which serves revoking a
-- connection's tokens, a family's (the connection is always known), and
-- the cascade from connections; codes lose two indexes no query reads.
DROP INDEX authorization_codes_family;
DROP INDEX authorization_codes_expiry;
DROP INDEX refresh_tokens_family;
DROP INDEX refresh_tokens_connection;
CREATE INDEX refresh_tokens_connection_family ON refresh_tokens (connection_id, family_id);
DROP INDEX access_tokens_family;
DROP INDEX access_tokens_connection;
CREATE INDEX access_tokens_connection_family ON access_tokens (connection_id, family_id);
