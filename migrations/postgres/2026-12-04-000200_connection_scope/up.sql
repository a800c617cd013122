-- What each connection can see, computed once per change instead of on
-- every request (issue 20); see the SQLite migration of the same name.
ALTER TABLE workspaces ADD COLUMN scope_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN scope_version BIGINT NOT NULL DEFAULT -1;

CREATE TABLE connection_scope (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    page_id       TEXT NOT NULL,
    trashed       BOOLEAN NOT NULL,
    PRIMARY KEY (connection_id, page_id)
);

CREATE FUNCTION pages_scope_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE workspaces SET scope_version = scope_version + 1 WHERE id = OLD.workspace_id;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.workspace_id <> NEW.workspace_id THEN
        UPDATE workspaces SET scope_version = scope_version + 1 WHERE id = OLD.workspace_id;
    END IF;
    UPDATE workspaces SET scope_version = scope_version + 1 WHERE id = NEW.workspace_id;
    RETURN NEW;
END $$;
CREATE TRIGGER pages_scope AFTER INSERT OR DELETE OR UPDATE OF parent_id, visibility, in_trash, created_by, workspace_id
    ON pages FOR EACH ROW EXECUTE FUNCTION pages_scope_bump();

CREATE FUNCTION connection_pages_scope_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE workspaces SET scope_version = scope_version + 1
         WHERE id = (SELECT workspace_id FROM connections WHERE id = OLD.connection_id);
        RETURN OLD;
    END IF;
    UPDATE workspaces SET scope_version = scope_version + 1
     WHERE id = (SELECT workspace_id FROM connections WHERE id = NEW.connection_id);
    RETURN NEW;
END $$;
CREATE TRIGGER connection_pages_scope AFTER INSERT OR DELETE
    ON connection_pages FOR EACH ROW EXECUTE FUNCTION connection_pages_scope_bump();

CREATE FUNCTION connections_scope_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1 WHERE id IN (OLD.workspace_id, NEW.workspace_id);
    RETURN NEW;
END $$;
CREATE TRIGGER connections_scope AFTER UPDATE OF installed_by, workspace_id
    ON connections FOR EACH ROW EXECUTE FUNCTION connections_scope_bump();
