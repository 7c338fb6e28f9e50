"""An MCP tool server for benchmarks, built with the official SDK's server side over
streamable HTTP: one read-only tool, `add`, that answers at once.

    python bench/fake_mcp_server.py PORT
"""

import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("bench")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def add(expression: str) -> str:
    """Add the numbers in an expression such as 2+2."""
    return str(sum(float(part) for part in expression.split("+")))


if __name__ == "__main__":
    print("ready", flush=True)
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
