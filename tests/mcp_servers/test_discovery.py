"""Each process's cache of the MCP servers' tools: listed off the turn's path, namespaced,
bounded, an unreachable server marked so (offering nothing), refreshed when staff save an
entry and when the server says its tools changed."""

import asyncio

import pytest
from channels.db import database_sync_to_async as db

from conversations.mcp_servers import client, discovery
from conversations.mcp_servers.models import McpServer
from tests.mcp_servers.server import McpTestServer

pytestmark = pytest.mark.django_db(transaction=True)


def add_server(url: str, **fields) -> McpServer:
    fields = {"name": "Test tools", "prefix": "test", "url": url, "internal": True, **fields}
    return McpServer.objects.create(**fields)


async def until(condition, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_tools_are_listed_and_namespaced(mcp_server):
    row = await db(add_server)(mcp_server.url)
    await discovery.refresh()
    state = discovery.states()[row.pk]
    assert state.reachable and state.error == ""
    tools = {tool.remote_name: tool for tool in state.tools}
    assert tools["echo"].name == "test__echo"
    assert tools["echo"].read_only is True and tools["delete_all"].destructive is True
    assert tools["no_hints"].read_only is None
    assert tools["echo"].parameters["properties"]["text"]["type"] == "string"


async def test_an_unreachable_server_is_marked_and_offers_nothing(mcp_server):
    url = mcp_server.url
    mcp_server.stop()
    row = await db(add_server)(url)
    await discovery.refresh()
    state = discovery.states()[row.pk]
    assert state.reachable is False and state.offered_tools() == []
    assert state.error == "could not reach the MCP server Test tools (ConnectError)"


async def test_a_slow_server_does_not_hold_up_the_others(mcp_server):
    """Two servers: one never answers its listing in time; the other's tools come anyway."""
    await db(add_server)(mcp_server.url)
    await db(add_server)("http://10.255.255.1/mcp", name="Slow", prefix="slow", timeout=0.5)
    await discovery.refresh()
    by_name = {state.name: state for state in discovery.states().values()}
    assert by_name["Test tools"].reachable and by_name["Slow"].reachable is False


async def test_a_private_address_is_refused_for_an_entry_not_internal(mcp_server):
    row = await db(add_server)(mcp_server.url, internal=False)
    await discovery.refresh()
    state = discovery.states()[row.pk]
    assert state.reachable is False and "may not reach" in state.error
    assert mcp_server.headers_seen == []


def test_names_fit_the_wire_format_and_are_shortened_deterministically():
    assert discovery.tool_name("gh", "create_issue") == "gh__create_issue"
    odd = discovery.tool_name("gh", "repo.create/issue")
    assert odd == discovery.tool_name("gh", "repo.create/issue")
    assert odd.startswith("gh__repo_create_issue_") and len(odd) <= 64
    long = discovery.tool_name("a" * 20, "b" * 100)
    assert len(long) == 64 and long != discovery.tool_name("a" * 20, "b" * 99)


def test_tools_per_server_schema_size_and_descriptions_are_bounded(monkeypatch):
    import mcp_types as types

    monkeypatch.setattr(discovery, "MAX_TOOLS", 3)
    listed = [
        types.Tool(name=f"t{i}", description="d" * 5000, input_schema={"type": "object"})
        for i in range(10)
    ]
    listed.append(
        types.Tool(
            name="big",
            input_schema={"type": "object", "description": "x" * (discovery.MAX_SCHEMA_BYTES + 1)},
        )
    )
    tools = discovery._tools("p", listed)
    assert [tool.remote_name for tool in tools] == ["t0", "t1", "t2"]
    assert all(len(tool.description) == discovery.MAX_DESCRIPTION for tool in tools)


async def test_only_the_offered_tools_are_offered(mcp_server):
    row = await db(add_server)(mcp_server.url, offered_tools=["echo"])
    await discovery.refresh()
    assert [tool.name for tool in discovery.states()[row.pk].offered_tools()] == ["test__echo"]


async def test_a_save_refreshes_this_process_and_a_disabled_server_goes():
    server = McpTestServer().start()
    running = discovery.Discovery()
    task = asyncio.create_task(running.run())
    try:
        row = await db(add_server)(server.url)  # post_save → on_commit → changed()
        await until(lambda: (s := discovery.states().get(row.pk)) is not None and s.reachable)
        await db(McpServer.objects.filter(pk=row.pk).update)(enabled=False)
        row.enabled = False
        await db(row.save)()
        await until(lambda: row.pk not in discovery.states())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.stop()


async def test_list_changed_refreshes_the_tools(mcp_server):
    """The server adds a tool and says so: the watching session hears it, and the cache
    lists the new tool without any save or periodic refresh."""
    row = await db(add_server)(mcp_server.url)
    running = discovery.Discovery()
    task = asyncio.create_task(running.run())
    try:
        await until(lambda: (s := discovery.states().get(row.pk)) is not None and s.reachable)
        assert "test__extra" not in {t.name for t in discovery.states()[row.pk].tools}
        await asyncio.sleep(0.5)  # The watch's listen stream is open.
        endpoint = discovery.states()[row.pk].endpoint
        assert (await client.call_tool(endpoint, "change_tools", {}, 5)).ok
        await until(lambda: "test__extra" in {t.name for t in discovery.states()[row.pk].tools})
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_server_back_after_a_failure_is_listed_when_its_watch_reconnects():
    """Not at the next periodic refresh (minutes away): the watch's reconnection lists it."""
    first = McpTestServer().start()
    row = await db(add_server)(first.url)
    running = discovery.Discovery()
    task = asyncio.create_task(running.run())
    try:
        await until(lambda: (s := discovery.states().get(row.pk)) is not None and s.reachable)
        first.stop()
        running.kick()
        await until(lambda: discovery.states()[row.pk].reachable is False)
        second = McpTestServer(port=first.port).start()
        try:
            await until(lambda: discovery.states()[row.pk].reachable, timeout=15)
        finally:
            second.stop()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
