"""MCP tool servers staff configure: their rows, stored secrets, the outbound address
guard, the client (over the official `mcp` SDK), each process's cache of their tools, and
the source that offers those tools to turns through tools.external."""
