"""The MCP tools a user's turn may offer, through tools.external: each offered tool of each
enabled, reachable server the user's groups may use (everyone, unless an access rule keeps
the server to some groups); approval asked for tools that may change something, unless
staff trust them; the runner calls the server."""

import json
import re

import pytest
from channels.db import database_sync_to_async as db
from django.contrib.auth.models import Group
from django.test import Client

from conversations.access import kinds
from conversations.access import services as access_services
from conversations.mcp_servers import discovery, source
from conversations.mcp_servers.models import McpServer
from conversations.tools import external

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def listed(mcp_server):
    row = await db(McpServer.objects.create)(
        name="Test tools",
        prefix="test",
        url=mcp_server.url,
        internal=True,
        trusted_tools=["no_hints"],
    )
    await discovery.refresh()
    return row


async def test_everyone_gets_the_tools_by_default(listed, user):
    tools = await db(external.for_user)(user.pk)
    echo = tools["test__echo"]
    assert (echo.source, echo.server, echo.remote_name) == ("mcp", "Test tools", "echo")
    assert echo.parameters["type"] == "object"


async def test_a_user_outside_the_servers_groups_gets_none(listed, user, other_user):
    def keep_to_team():
        team = Group.objects.create(name="Team")
        other_user.groups.add(team)
        access_services.rule_set(kind=kinds.MCP_SERVER, name=str(listed.pk), group_ids=[team.pk])

    await db(keep_to_team)()
    from conversations.access import policy

    await db(policy.load)()
    assert not [n for n in await db(external.for_user)(user.pk) if n.startswith("test__")]
    assert "test__echo" in await db(external.for_user)(other_user.pk)


async def test_approval_is_asked_unless_read_only_or_trusted(listed, user):
    tools = await db(external.for_user)(user.pk)
    assert tools["test__echo"].needs_approval is False  # readOnlyHint: true
    assert tools["test__delete_all"].needs_approval is True  # destructiveHint: true
    assert tools["test__no_hints"].needs_approval is False  # declares nothing, but trusted
    assert tools["test__picture"].needs_approval is False


def test_needs_approval_rules():
    tool = discovery.DiscoveredTool("p__t", "t", "", {}, read_only=None, destructive=None)
    assert source.needs_approval(tool, frozenset())  # No readOnlyHint: it may change things.
    assert not source.needs_approval(tool, frozenset({"t"}))
    destructive = discovery.DiscoveredTool("p__t", "t", "", {}, read_only=True, destructive=True)
    assert source.needs_approval(destructive, frozenset())


async def test_a_disabled_or_unreachable_server_offers_nothing(listed, user, mcp_server):
    listed.enabled = False
    await db(listed.save)()
    await discovery.refresh()
    assert not await db(external.for_user)(user.pk)


async def test_the_runner_calls_the_tool(listed, user):
    tool = (await db(external.for_user)(user.pk))["test__echo"]
    outcome = await tool.runner({"text": "hello"}, 5)
    assert outcome == external.ToolOutcome(text="echo: hello", ok=True)


async def test_a_server_gone_since_the_listing_is_an_error(listed, user):
    tool = (await db(external.for_user)(user.pk))["test__echo"]
    discovery.forget()
    outcome = await tool.runner({"text": "hello"}, 5)
    assert outcome == external.ToolOutcome(
        text="Error: this tool's MCP server is no longer available.", ok=False
    )


async def test_deleting_a_server_drops_its_access_rule(listed):
    def rule_then_delete():
        team = Group.objects.create(name="Team")
        access_services.rule_set(kind=kinds.MCP_SERVER, name=str(listed.pk), group_ids=[team.pk])
        listed.delete()
        from conversations.access.models import AccessRule

        return AccessRule.objects.filter(kind=kinds.MCP_SERVER).count()

    assert await db(rule_then_delete)() == 0


async def test_the_servers_a_user_may_use_with_their_reachability(listed, user, mcp_server):
    await db(McpServer.objects.create)(
        name="Gone", prefix="gone", url="http://127.0.0.1:9/mcp", internal=True, timeout=1
    )
    await discovery.refresh()
    assert await db(source.servers_for)(user.pk) == [("Gone", False), ("Test tools", True)]
    # Through the seam (the source installs itself at start-up), and on the chat page,
    # whose Tools menu shows the server it cannot reach.
    assert await db(external.servers_for)(user.pk) == [
        external.ServerState("Gone", False),
        external.ServerState("Test tools", True),
    ]

    def page_boot() -> dict:
        client = Client()
        client.force_login(user)
        html = client.get("/").content.decode()
        found = re.search(r'<script id="boot" type="application/json">(.*?)</script>', html, re.S)
        return json.loads(found.group(1))

    boot = await db(page_boot)()
    assert boot["tool_servers_down"] == ["Gone"]
    assert {tool["server"] for tool in boot["tools"] if "server" in tool} == {"Test tools"}
