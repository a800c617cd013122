-- The integration's privacy policy and terms, shown on the consent page.
ALTER TABLE integrations ADD COLUMN privacy_url TEXT;
ALTER TABLE integrations ADD COLUMN terms_url TEXT;
