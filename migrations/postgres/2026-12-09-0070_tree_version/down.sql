DROP TRIGGER pages_tree ON pages;
DROP FUNCTION pages_tree_bump();
ALTER TABLE workspaces DROP COLUMN tree_version;
