DROP TRIGGER connections_scope_update;
DROP TRIGGER connection_pages_scope_delete;
DROP TRIGGER connection_pages_scope_insert;
DROP TRIGGER pages_scope_update;
DROP TRIGGER pages_scope_delete;
DROP TRIGGER pages_scope_insert;
DROP TABLE connection_scope;
ALTER TABLE connections DROP COLUMN scope_version;
ALTER TABLE workspaces DROP COLUMN scope_version;
