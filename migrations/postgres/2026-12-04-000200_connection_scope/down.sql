DROP TRIGGER connections_scope ON connections;
DROP FUNCTION connections_scope_bump();
DROP TRIGGER connection_pages_scope ON connection_pages;
DROP FUNCTION connection_pages_scope_bump();
DROP TRIGGER pages_scope ON pages;
DROP FUNCTION pages_scope_bump();
DROP TABLE connection_scope;
ALTER TABLE connections DROP COLUMN scope_version;
ALTER TABLE workspaces DROP COLUMN scope_version;
