-- Who created each workspace: what the CLI installs an internal integration
-- (and adds a page) as when no user is named (issue 15 #19). Before this,
-- "the first owner" was ordered by a join time in whole seconds, so two
-- owners who joined in the same second made the choice arbitrary. Existing
-- workspaces get their earliest owner, ties broken by user id.
ALTER TABLE workspaces ADD COLUMN created_by TEXT REFERENCES users (id) ON DELETE SET NULL;

UPDATE workspaces SET created_by = (
    SELECT m.user_id FROM memberships m
    WHERE m.workspace_id = workspaces.id AND m.role = 'owner'
    ORDER BY m.joined_at ASC, m.user_id ASC
    LIMIT 1
);
