-- Closed throttle windows are purged by a range delete on window_start.
CREATE INDEX auth_failures_window_start ON auth_failures (window_start);
