DROP TRIGGER pages_tree_update;
DROP TRIGGER pages_tree_delete;
DROP TRIGGER pages_tree_insert;
ALTER TABLE workspaces DROP COLUMN tree_version;
