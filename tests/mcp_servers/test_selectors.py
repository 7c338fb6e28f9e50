"""Reads of MCP server entries, as discovery and the access rules' form use them."""

import pytest

from conversations.mcp_servers import selectors
from conversations.mcp_servers.models import McpServer

pytestmark = pytest.mark.django_db


def test_enabled_servers_by_name_and_bounded():
    for name, enabled in [("b", True), ("a", True), ("c", False), ("d", True)]:
        McpServer.objects.create(
            name=name, prefix=name, url="https://x.example/mcp", enabled=enabled
        )
    assert [row.name for row in selectors.enabled_servers(limit=2)] == ["a", "b"]


def test_names_for_access_rules():
    row = McpServer.objects.create(name="Tools", prefix="t", url="https://x.example/mcp")
    assert selectors.server_names() == [(str(row.pk), "Tools")]
    assert selectors.server_name(str(row.pk)) == "Tools"
    assert selectors.server_name("999") == "999" and selectors.server_name("x") == "x"
