-- A connection's bot writes in the last minute are counted on every write
-- (issue 25, S68: the per-connection audit bound).
CREATE INDEX audit_events_target ON audit_events (target, at);
