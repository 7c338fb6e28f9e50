"""Talking to one MCP server, through the official SDK (`mcp`) over streamable HTTP: list its
tools, call one, watch for `tools/list_changed`. Every connection passes the address guard
and every response body the size bound (netguard.py).

Each listing and each call opens a session of its own and closes it after: nothing is
shared between turns, a stop cancels exactly one call, and a server that restarted costs
nothing. The price is a handshake per call (see README, "MCP tool servers").

A call never raises but for the caller's cancellation: every failure becomes an
`Error: …` outcome, in words of our own (a server's error message is passed on with the
server's header values taken out), so nothing of a failure shows a header value.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import mcp_types as types
from django.conf import settings
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ListenNotSupportedError

from ..llm.redact import REDACTED
from ..tools.external import ToolOutcome
from . import netguard

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 300  # Of a server's own error message, passed on to the model.
MAX_LIST_PAGES = 10  # tools/list pages read at most (each bounded by the size bound).


@dataclass(frozen=True)
class Endpoint:
    """What a call needs of a server entry (its headers decrypted, held in memory only)."""

    name: str
    url: str
    headers: dict[str, str] = field(repr=False)
    timeout: float
    internal: bool


class Failure(Exception):
    """A listing failed; the message is safe to show staff (no header values)."""


def _clean(text: str, endpoint: Endpoint) -> str:
    """The text without any of the server's header values in it."""
    for value in endpoint.headers.values():
        for piece in {value, *value.split()[1:]}:  # "Bearer abc": the token alone too.
            if len(piece) >= 4:
                text = text.replace(piece, REDACTED)
    return text


@asynccontextmanager
async def session(endpoint: Endpoint, guard: netguard.Guard, *, read_timeout: float | None):
    http = netguard.http_client(
        guard, headers=endpoint.headers, timeout=endpoint.timeout, read_timeout=read_timeout
    )
    async with (
        http,
        Client(
            streamable_http_client(endpoint.url, http_client=http),
            cache=None,
            read_timeout_seconds=read_timeout,
        ) as client,
    ):
        yield client


def _guard(endpoint: Endpoint) -> netguard.Guard:
    return netguard.Guard(
        allow_private=endpoint.internal,
        max_response_bytes=settings.CHAT_MCP_MAX_RESPONSE_BYTES,
    )


def _leaf(error: BaseException) -> BaseException:
    """The first exception inside task groups' groups (the SDK runs its transport in one)."""
    for _ in range(10):
        if not isinstance(error, BaseExceptionGroup) or not error.exceptions:
            break
        error = error.exceptions[0]
    return error


def _failure_text(
    error: BaseException, guard: netguard.Guard, endpoint: Endpoint, timeout: float
) -> str:
    """A failure in words that hold no secret."""
    error = _leaf(error)
    if guard.refused:
        return (
            f"the MCP server {endpoint.name} is at an address this app may not reach "
            f"({guard.refused})"
        )
    if guard.too_large:
        return (
            f"the MCP server's response was larger than "
            f"{guard.max_response_bytes} bytes; reading stopped there"
        )
    if isinstance(error, TimeoutError):
        return f"the MCP server {endpoint.name} did not answer within {timeout:g} seconds"
    if isinstance(error, MCPError):
        said = _clean(str(error), endpoint)[:MAX_ERROR_CHARS]
        return f"the MCP server {endpoint.name} refused the request: {said}"
    return f"could not reach the MCP server {endpoint.name} ({type(error).__name__})"


def _cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def list_tools(endpoint: Endpoint) -> list[types.Tool]:
    """Every tool the server lists (at most MAX_LIST_PAGES pages); raises Failure."""
    guard = _guard(endpoint)
    try:
        async with asyncio.timeout(endpoint.timeout):
            async with session(endpoint, guard, read_timeout=endpoint.timeout) as client:
                tools: list[types.Tool] = []
                cursor = None
                for _ in range(MAX_LIST_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                return tools
    except Exception as error:
        if _cancelled():
            raise
        raise Failure(_failure_text(error, guard, endpoint, endpoint.timeout)) from None


async def call_tool(endpoint: Endpoint, name: str, arguments: dict, timeout: float) -> ToolOutcome:
    """One call of a tool, within `timeout` (capped by the server's own); never raises but
    for cancellation, which ends the call (its session and connection) at once."""
    timeout = min(timeout, endpoint.timeout)
    guard = _guard(endpoint)
    try:
        async with asyncio.timeout(timeout):
            async with session(endpoint, guard, read_timeout=timeout) as client:
                result = await client.call_tool(name, arguments)
    except Exception as error:
        if _cancelled():
            raise
        return ToolOutcome(
            text=f"Error: {_failure_text(error, guard, endpoint, timeout)}", ok=False
        )
    text, truncated = result_text(result, settings.CHAT_MCP_MAX_RESULT_CHARS)
    if result.is_error:
        return ToolOutcome(text=f"Error: {_clean(text, endpoint)}", ok=False, truncated=truncated)
    return ToolOutcome(text=text, ok=True, truncated=truncated)


def result_text(result: types.CallToolResult, max_chars: int) -> tuple[str, bool]:
    """The result as the model reads it: its text parts joined, a short note for anything
    else, cut at `max_chars` with a note saying so."""
    parts: list[str] = []
    for item in result.content:
        match item:
            case types.TextContent():
                parts.append(item.text)
            case types.ImageContent() | types.AudioContent():
                parts.append(f"[{item.type} ({item.mime_type[:50]}) not shown]")
            case types.EmbeddedResource() if isinstance(item.resource, types.TextResourceContents):
                parts.append(item.resource.text)
            case types.EmbeddedResource():
                parts.append(f"[a binary resource not shown: {str(item.resource.uri)[:200]}]")
            case types.ResourceLink():
                parts.append(f"[a resource: {str(item.uri)[:200]}]")
            case _:
                parts.append(f"[{getattr(item, 'type', 'content')} not shown]")
        if sum(len(part) for part in parts) > max_chars:
            break  # The rest would be cut anyway.
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content)[: max_chars + 1])
    text = "\n".join(parts)
    if len(text) <= max_chars:
        return text, False
    note = (
        f"\n[Truncated: the result was longer than {max_chars} characters; the rest is not shown.]"
    )
    return text[:max_chars] + note, True


async def watch(
    endpoint: Endpoint,
    on_change: Callable[[], Awaitable[None]],
    on_connect: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Call `on_change` whenever the server says its tools changed, until the connection
    ends (returns) or fails (raises); the caller reconnects. On the 2026-07-28 protocol the
    news comes on a `subscriptions/listen` stream; on earlier ones, as a notification.
    `on_connect` is called once the session is open (a server back after a failure)."""
    guard = _guard(endpoint)
    changed = asyncio.Event()

    async def heard(message) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    http = netguard.http_client(
        guard, headers=endpoint.headers, timeout=endpoint.timeout, read_timeout=None
    )
    async with (
        http,
        Client(
            streamable_http_client(endpoint.url, http_client=http),
            cache=None,
            read_timeout_seconds=endpoint.timeout,
            message_handler=heard,
        ) as client,
    ):
        if on_connect is not None:
            await on_connect()
        try:
            async with client.listen(tools_list_changed=True) as events:
                async for _event in events:
                    await on_change()
            return
        except ListenNotSupportedError:
            pass
        while True:  # An earlier protocol: notifications arrive through `heard`.
            await changed.wait()
            changed.clear()
            await on_change()
