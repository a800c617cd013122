DROP INDEX audit_events_target;
