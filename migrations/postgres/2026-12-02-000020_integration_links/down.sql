ALTER TABLE integrations DROP COLUMN terms_url;
ALTER TABLE integrations DROP COLUMN privacy_url;
