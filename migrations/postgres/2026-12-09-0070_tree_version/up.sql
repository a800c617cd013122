-- The page picker's tree read once per change (issue 30 item 3); see the
-- SQLite migration of the same name.
ALTER TABLE workspaces ADD COLUMN tree_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION pages_tree_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE workspaces SET tree_version = tree_version + 1 WHERE id = OLD.workspace_id;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.workspace_id <> NEW.workspace_id THEN
        UPDATE workspaces SET tree_version = tree_version + 1 WHERE id = OLD.workspace_id;
    END IF;
    UPDATE workspaces SET tree_version = tree_version + 1 WHERE id = NEW.workspace_id;
    RETURN NEW;
END $$;
CREATE TRIGGER pages_tree AFTER INSERT OR DELETE OR UPDATE OF parent_id, title, visibility, in_trash, created_by, created_at, workspace_id
    ON pages FOR EACH ROW EXECUTE FUNCTION pages_tree_bump();
