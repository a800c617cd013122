-- The per-connection API rate limit as one token bucket per connection
-- (issue 30 item 4), shared by every instance on this database. Tokens are
-- counted in thousandths so refill is integer arithmetic on both backends;
-- an instance takes a short lease of a few tokens at a time (state::limit),
-- so the table sees one write per lease, not per request.
CREATE TABLE rate_buckets (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    milli_tokens  BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL
);
