//! Markdown to blocks and back (DESIGN §8): the one conversion the CLI, the
//! page view and the MCP tools share.
