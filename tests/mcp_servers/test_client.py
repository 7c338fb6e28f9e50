"""One call of an MCP tool against a real SDK server on loopback: results are text, bounded
and noted when cut; every failure is an `Error: …` outcome holding no header value; a
timeout, a hang and a cancellation end the call promptly."""

import asyncio
import time

import mcp_types as types
import pytest

from conversations.mcp_servers import client

SECRET = "Bearer s3cr3t-header-value-XYZ"


def endpoint(server, *, timeout: float = 5, internal: bool = True, url: str | None = None):
    return client.Endpoint(
        name="Test tools",
        url=url or server.url,
        headers={"Authorization": SECRET},
        timeout=timeout,
        internal=internal,
    )


async def test_lists_tools_with_their_hints_and_sends_the_headers(mcp_server):
    tools = {tool.name: tool for tool in await client.list_tools(endpoint(mcp_server))}
    assert {"echo", "slow", "fail", "huge", "hang", "vanish", "delete_all"} <= set(tools)
    assert tools["echo"].annotations.read_only_hint is True
    assert tools["delete_all"].annotations.destructive_hint is True
    assert tools["no_hints"].annotations is None
    assert all(seen.get("authorization") == SECRET for seen in mcp_server.headers_seen)


async def test_a_call_returns_the_tools_text(mcp_server):
    outcome = await client.call_tool(endpoint(mcp_server), "echo", {"text": "hi"}, 5)
    assert outcome == client.ToolOutcome(text="echo: hi", ok=True)


async def test_non_text_content_becomes_a_short_note(mcp_server):
    outcome = await client.call_tool(endpoint(mcp_server), "picture", {}, 5)
    assert outcome.ok and outcome.text == "a caption\n[image (image/png) not shown]"


async def test_a_long_result_is_cut_with_a_note(mcp_server, settings):
    settings.CHAT_MCP_MAX_RESULT_CHARS = 1000
    outcome = await client.call_tool(endpoint(mcp_server), "huge", {"size": 5000}, 5)
    assert outcome.ok and outcome.truncated
    assert outcome.text.startswith("x" * 1000 + "\n[Truncated:")
    assert len(outcome.text) < 1200


async def test_a_response_past_the_byte_bound_is_not_read_further(mcp_server, settings):
    settings.CHAT_MCP_MAX_RESPONSE_BYTES = 50_000
    outcome = await client.call_tool(endpoint(mcp_server), "huge", {"size": 2_000_000}, 5)
    assert not outcome.ok
    assert outcome.text == (
        "Error: the MCP server's response was larger than 50000 bytes; reading stopped there"
    )


async def test_a_tool_that_raises_is_an_error_result(mcp_server):
    outcome = await client.call_tool(endpoint(mcp_server), "fail", {}, 5)
    assert not outcome.ok and outcome.text.startswith("Error: ")


async def test_a_tool_removed_between_listing_and_call_is_an_error_result(mcp_server):
    assert "vanish" in {t.name for t in await client.list_tools(endpoint(mcp_server))}
    mcp_server.remove("vanish")
    outcome = await client.call_tool(endpoint(mcp_server), "vanish", {}, 5)
    assert not outcome.ok and outcome.text.startswith("Error: ") and "vanish" in outcome.text


async def test_a_slow_tool_times_out_at_the_callers_timeout(mcp_server):
    started = time.monotonic()
    outcome = await client.call_tool(endpoint(mcp_server), "slow", {"seconds": 10}, 0.5)
    assert time.monotonic() - started < 3
    assert outcome == client.ToolOutcome(
        text="Error: the MCP server Test tools did not answer within 0.5 seconds", ok=False
    )


async def test_the_servers_own_timeout_caps_the_callers(mcp_server):
    outcome = await client.call_tool(endpoint(mcp_server, timeout=0.5), "hang", {}, 30)
    assert outcome.text == "Error: the MCP server Test tools did not answer within 0.5 seconds"


async def test_a_stop_cancels_a_hanging_call_promptly(mcp_server):
    call = asyncio.create_task(client.call_tool(endpoint(mcp_server), "hang", {}, 30))
    while mcp_server.hangs == 0:
        await asyncio.sleep(0.05)
    started = time.monotonic()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert time.monotonic() - started < 1
    # The connection closed, so the server's side of the call ended too.
    for _ in range(100):
        if mcp_server.hangs_ended:
            break
        await asyncio.sleep(0.05)
    assert mcp_server.hangs_ended == 1


async def test_an_unreachable_server_is_an_error_result(mcp_server):
    url = mcp_server.url
    mcp_server.stop()
    outcome = await client.call_tool(endpoint(mcp_server, url=url), "echo", {"text": "x"}, 5)
    assert not outcome.ok
    assert outcome.text == "Error: could not reach the MCP server Test tools (ConnectError)"
    with pytest.raises(client.Failure):
        await client.list_tools(endpoint(mcp_server, url=url))


async def test_a_loopback_server_not_marked_internal_is_refused(mcp_server):
    outcome = await client.call_tool(endpoint(mcp_server, internal=False), "echo", {"text": "x"}, 5)
    assert outcome.text == (
        "Error: the MCP server Test tools is at an address this app may not reach "
        "(127.0.0.1 (127.0.0.1, loopback))"
    )
    assert mcp_server.headers_seen == []  # The header never left.


async def test_an_http_error_is_an_error_result(mcp_server):
    outcome = await client.call_tool(
        endpoint(mcp_server, url=mcp_server.url.replace("/mcp", "/elsewhere")), "echo", {}, 5
    )
    assert not outcome.ok and outcome.text.startswith("Error: the MCP server Test tools refused")


def test_no_failure_text_holds_a_header_value():
    text = client._clean(
        f"upstream said: {SECRET} and s3cr3t-header-value-XYZ", endpoint(None, url="http://x")
    )
    assert "s3cr3t" not in text


def test_an_error_result_holds_no_header_value():
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text=f"denied for {SECRET}")], is_error=True
    )
    text, _ = client.result_text(result, 1000)
    assert "s3cr3t" not in client._clean(text, endpoint(None, url="http://x"))
