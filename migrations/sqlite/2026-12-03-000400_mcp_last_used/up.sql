-- When a connection last called /mcp (an MCP agent), for Settings; NULL for
-- connections that never did. Written at most once a minute per connection.
ALTER TABLE connections ADD COLUMN mcp_last_used_at BIGINT;
