-- The page picker's tree read once per change instead of on every consent
-- view (issue 30 item 3): `tree_version` moves whenever anything the
-- picker's tree shows changes (a page added or deleted, renamed, moved,
-- trashed or restored, made private or shared, or given to another
-- creator). Unlike `scope_version` it ignores sharing with connections,
-- so a consent (which replaces a connection's pages) keeps the cached tree.
-- domain::tree_cache keeps one tree per workspace and re-reads it when
-- the version it was read at is behind.
ALTER TABLE workspaces ADD COLUMN tree_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER pages_tree_insert AFTER INSERT ON pages BEGIN
    UPDATE workspaces SET tree_version = tree_version + 1 WHERE id = NEW.workspace_id;
END;
CREATE TRIGGER pages_tree_delete AFTER DELETE ON pages BEGIN
    UPDATE workspaces SET tree_version = tree_version + 1 WHERE id = OLD.workspace_id;
END;
CREATE TRIGGER pages_tree_update AFTER UPDATE OF parent_id, title, visibility, in_trash, created_by, created_at, workspace_id ON pages BEGIN
    UPDATE workspaces SET tree_version = tree_version + 1 WHERE id IN (OLD.workspace_id, NEW.workspace_id);
END;
