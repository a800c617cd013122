-- What each connection can see, computed once per change instead of on
-- every request (issue 20): `connection_scope` holds the pages the scope
-- query of db::queries::scope reaches, with their trash state, as of the
-- workspace's `scope_version` recorded on the connection. Triggers bump a
-- workspace's version whenever anything the scope depends on changes (a
-- page added, removed, moved, trashed or restored, made private or shared,
-- a page shared with a connection or unshared, a connection's installer);
-- a reader that finds its connection's version behind rebuilds the set.
ALTER TABLE workspaces ADD COLUMN scope_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN scope_version BIGINT NOT NULL DEFAULT -1;

CREATE TABLE connection_scope (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    page_id       TEXT NOT NULL,
    trashed       BOOLEAN NOT NULL,
    PRIMARY KEY (connection_id, page_id)
) WITHOUT ROWID;

CREATE TRIGGER pages_scope_insert AFTER INSERT ON pages BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1 WHERE id = NEW.workspace_id;
END;
CREATE TRIGGER pages_scope_delete AFTER DELETE ON pages BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1 WHERE id = OLD.workspace_id;
END;
CREATE TRIGGER pages_scope_update AFTER UPDATE OF parent_id, visibility, in_trash, created_by, workspace_id ON pages BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1 WHERE id IN (OLD.workspace_id, NEW.workspace_id);
END;
CREATE TRIGGER connection_pages_scope_insert AFTER INSERT ON connection_pages BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1
     WHERE id = (SELECT workspace_id FROM connections WHERE id = NEW.connection_id);
END;
CREATE TRIGGER connection_pages_scope_delete AFTER DELETE ON connection_pages BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1
     WHERE id = (SELECT workspace_id FROM connections WHERE id = OLD.connection_id);
END;
CREATE TRIGGER connections_scope_update AFTER UPDATE OF installed_by, workspace_id ON connections BEGIN
    UPDATE workspaces SET scope_version = scope_version + 1 WHERE id IN (OLD.workspace_id, NEW.workspace_id);
END;
