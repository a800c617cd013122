ALTER TABLE connections DROP COLUMN mcp_last_used_at;
