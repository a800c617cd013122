-- Whether anyone other than the connection's installer has been shown this
-- internal token (an owner's "Copy internal integration token"). Such a
-- token is replaced when a private page first joins the connection, so a
-- copy taken earlier never reads a page its holder may not see (S70).
ALTER TABLE internal_tokens ADD COLUMN shown_to_others BOOLEAN NOT NULL DEFAULT FALSE;
-- Tokens already retrieved by someone else before this column existed.
UPDATE internal_tokens SET shown_to_others = TRUE
WHERE EXISTS (
  SELECT 1 FROM audit_events a JOIN connections c ON c.id = internal_tokens.connection_id
  WHERE a.action = 'token.retrieved' AND a.target = internal_tokens.connection_id
    AND a.actor IS NOT NULL AND a.actor <> c.installed_by
);
