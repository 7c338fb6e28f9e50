"""The MCP test server (tests/mcp_servers/server.py) as fixtures: `mcp_server`, one per
module (its tools change only through `change_tools`, which tests that use it undo)."""

import os

import pytest

from tests.mcp_servers.server import McpTestServer


def _start() -> McpTestServer:
    try:
        return McpTestServer().start()
    except Exception as error:
        # Never skipped: under CI=true and elsewhere alike, a server that cannot start
        # fails the run (it needs nothing but the SDK the app depends on).
        reason = "under CI=true " if os.environ.get("CI") == "true" else ""
        pytest.fail(f"The test MCP server could not start {reason}: {error}")


@pytest.fixture
def mcp_server():
    server = _start()
    yield server
    server.stop()
