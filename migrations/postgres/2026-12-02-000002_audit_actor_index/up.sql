-- What one person wrote to the audit log in the last minute is counted on
-- every page-menu change (issue 15 #20).
CREATE INDEX audit_events_actor ON audit_events (actor, at);
