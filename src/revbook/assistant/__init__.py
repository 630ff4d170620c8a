"""A read-only MCP server for AI assistants: revbook's figures with their definitions (docs/assistant.md)."""
