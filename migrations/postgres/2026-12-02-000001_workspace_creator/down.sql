ALTER TABLE workspaces DROP COLUMN created_by;
