"""Each process's knowledge of the MCP servers: their entries and the tools each lists,
held in memory, so that what a turn may offer is a dict lookup (source.py) and no turn ever
waits on a server.

The runtime runs one `Discovery` per server process (chat/runtime.py). It reads the enabled
entries, lists each server's tools (all at once, each within its timeout; an unreachable or
slow server is marked so and offers nothing), and does it again:
- when staff save or delete an entry: `changed()` (after the commit) wakes this process's
  discovery and tells every other process over the channel layer (`mcp.changed`), as the
  model catalog does;
- every CHAT_MCP_REFRESH_SECONDS (a message can be lost; a server can come back);
- when a server says `notifications/tools/list_changed`: each process keeps one watching
  session open per enabled server (client.watch), reconnecting with a growing pause.

Bounds: MAX_SERVERS entries; per server MAX_TOOLS tools, descriptions cut at
MAX_DESCRIPTION characters, a tool whose schema is over MAX_SCHEMA_BYTES dropped.
"""

import asyncio
import hashlib
import json
import logging
import re
import threading
import time
import weakref
from dataclasses import dataclass, field, replace

from channels.db import database_sync_to_async as db
from django.conf import settings

from ..tools.external import NAME_PATTERN
from . import client, selectors

logger = logging.getLogger(__name__)

MAX_SERVERS = 50
MAX_TOOLS = 100
MAX_DESCRIPTION = 2000
MAX_SCHEMA_BYTES = 32 * 1024
RETRY_SECONDS = 5.0  # After a refresh that failed (not a server: the entries' read).
WATCH_BACKOFF = (1.0, 2.0, 5.0, 15.0, 60.0)  # Pauses between a watch's reconnections.
MAX_NAME = 64
SEPARATOR = "__"

_NAME = re.compile(NAME_PATTERN)
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class DiscoveredTool:
    name: str  # As models see it: <prefix>__<tool>, NAME_PATTERN, ≤ 64 characters.
    remote_name: str  # As the server knows it.
    description: str
    parameters: dict
    read_only: bool | None  # readOnlyHint, None when not declared.
    destructive: bool | None  # destructiveHint, None when not declared.


@dataclass(frozen=True)
class ServerState:
    """One entry as this process knows it."""

    id: int
    name: str
    prefix: str
    endpoint: client.Endpoint
    offered: frozenset[str] | None  # Remote names; None: all of them.
    trusted: frozenset[str]
    tools: tuple[DiscoveredTool, ...] = ()
    reachable: bool | None = None  # None: not asked yet.
    error: str = ""
    checked_at: float | None = None  # time.time() of the last listing.
    changes: int = field(default=0, compare=False)  # list_changed heard (for status).

    def offered_tools(self) -> list[DiscoveredTool]:
        if not self.reachable:
            return []
        return [t for t in self.tools if self.offered is None or t.remote_name in self.offered]


_lock = threading.Lock()
_states: dict[int, ServerState] = {}


def states() -> dict[int, ServerState]:
    """Every enabled entry as this process knows it now (a snapshot; no I/O)."""
    return _states


def forget() -> None:
    """Forget every server (tests)."""
    global _states
    with _lock:
        _states = {}


def header_values() -> list[str]:
    """Every stored header value this process holds, and the words of each (a
    "Bearer …" value's token alone too, not the scheme): for the log's redaction (log_redaction.py)."""
    values: list[str] = []
    for state in _states.values():
        for value in state.endpoint.headers.values():
            values.append(value)
            values.extend(value.split()[1:])  # The words after a scheme ("Bearer").
    return values


def tool_name(prefix: str, remote: str) -> str:
    """The name models see: `<prefix>__<tool>`; a tool name with characters the wire format
    does not allow, or too long, is shortened deterministically (a hash of the original
    keeps two such names apart)."""
    name = f"{prefix}{SEPARATOR}{remote}"
    if _NAME.match(name):
        return name
    digest = hashlib.sha256(remote.encode()).hexdigest()[:8]
    room = MAX_NAME - len(prefix) - len(SEPARATOR) - len(digest) - 1
    return f"{prefix}{SEPARATOR}{_NOT_NAME.sub('_', remote)[:room]}_{digest}"


def _tools(prefix: str, listed) -> tuple[DiscoveredTool, ...]:
    tools: dict[str, DiscoveredTool] = {}
    for tool in sorted(listed, key=lambda t: t.name)[: MAX_TOOLS * 2]:
        schema = tool.input_schema or {"type": "object", "properties": {}}
        if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
            logger.warning("Dropped the MCP tool %.100s: its schema is too large", tool.name)
            continue
        name = tool_name(prefix, tool.name)
        if name in tools:
            continue  # Two names shortened alike: the first (by name) is kept.
        hints = tool.annotations
        tools[name] = DiscoveredTool(
            name=name,
            remote_name=tool.name,
            description=(tool.description or tool.title or "")[:MAX_DESCRIPTION],
            parameters=schema,
            read_only=hints.read_only_hint if hints else None,
            destructive=hints.destructive_hint if hints else None,
        )
        if len(tools) >= MAX_TOOLS:
            break
    return tuple(tools.values())


def _entries() -> list[ServerState]:
    return [
        ServerState(
            id=row.pk,
            name=row.name,
            prefix=row.prefix,
            endpoint=client.Endpoint(
                name=row.name,
                url=row.url,
                headers=row.headers,
                timeout=min(row.timeout, settings.CHAT_MCP_MAX_TIMEOUT),
                internal=row.internal,
            ),
            offered=frozenset(row.offered_tools) if row.offered_tools is not None else None,
            trusted=frozenset(row.trusted_tools or ()),
        )
        for row in selectors.enabled_servers(limit=MAX_SERVERS)
    ]


async def list_one(entry: ServerState) -> ServerState:
    """The entry with its tools listed now (or marked unreachable)."""
    try:
        listed = await client.list_tools(entry.endpoint)
    except client.Failure as failure:
        return _replace(entry, tools=(), reachable=False, error=str(failure))
    return _replace(entry, tools=_tools(entry.prefix, listed), reachable=True, error="")


def _replace(entry: ServerState, **changes) -> ServerState:
    return replace(entry, checked_at=time.time(), **changes)


def _store(state: ServerState) -> None:
    """Keep one server's new state, unless its entry went meanwhile."""
    global _states
    with _lock:
        if state.id in _states:
            _states = {**_states, state.id: state}


async def refresh() -> None:
    """Read the entries and list every server's tools; keep what comes back."""
    global _states
    entries = await db(_entries)()
    with _lock:  # Entries show at once (as not yet asked), and deleted ones go.
        old = _states
        _states = {e.id: old[e.id] if _same(old.get(e.id), e) else e for e in entries}
    for state in await asyncio.gather(*(list_one(e) for e in entries)):
        _store(state)


async def refresh_server(server_id: int) -> None:
    entry = _states.get(server_id)
    if entry is not None:
        _store(await list_one(entry))


def _same(old: ServerState | None, new: ServerState) -> bool:
    return old is not None and (
        old.endpoint,
        old.name,
        old.prefix,
        old.offered,
        old.trusted,
    ) == (new.endpoint, new.name, new.prefix, new.offered, new.trusted)


# ---- the loop in each process ------------------------------------------------------------

_running: "weakref.WeakSet[Discovery]" = weakref.WeakSet()


class Discovery:
    """The refreshing and watching in one server process (started by its runtime)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        self.watches: dict[int, tuple[client.Endpoint, asyncio.Task]] = {}
        _running.add(self)

    def kick(self) -> None:
        """Refresh now (the loop's own thread only; see `changed` for any thread)."""
        self.wake.set()

    async def run(self) -> None:
        try:
            while True:
                self.wake.clear()
                wait = settings.CHAT_MCP_REFRESH_SECONDS
                try:
                    await refresh()
                    self._watch()
                except Exception:
                    logger.exception("Refreshing the MCP servers failed; will retry")
                    wait = min(wait, RETRY_SECONDS)  # The database, say: soon again.
                try:
                    async with asyncio.timeout(wait):
                        await self.wake.wait()
                except TimeoutError:
                    pass
        finally:
            for _endpoint, task in self.watches.values():
                task.cancel()
            await asyncio.gather(*(t for _, t in self.watches.values()), return_exceptions=True)
            _running.discard(self)

    def _watch(self) -> None:
        """One watch per enabled server; a changed entry's watch starts again."""
        current = _states
        for server_id, (endpoint, task) in list(self.watches.items()):
            state = current.get(server_id)
            if state is None or state.endpoint != endpoint:
                task.cancel()
                del self.watches[server_id]
        for server_id, state in current.items():
            if server_id not in self.watches:
                task = self.loop.create_task(
                    self._watch_one(server_id, state.endpoint), name=f"mcp-watch-{server_id}"
                )
                self.watches[server_id] = (state.endpoint, task)

    async def _watch_one(self, server_id: int, endpoint: client.Endpoint) -> None:
        async def on_change() -> None:
            await refresh_server(server_id)

        async def on_connect() -> None:
            # Reachable again after a failed listing: list now, not at the next refresh.
            state = _states.get(server_id)
            if state is not None and state.reachable is False:
                await refresh_server(server_id)

        failures = 0
        while True:
            started = time.monotonic()
            try:
                await client.watch(endpoint, on_change, on_connect)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.info(
                    "Watching MCP server %s ended; reconnecting", endpoint.name, exc_info=True
                )
            if time.monotonic() - started > 60:
                failures = 0  # It held for a while: start the pauses over.
            await asyncio.sleep(WATCH_BACKOFF[min(failures, len(WATCH_BACKOFF) - 1)])
            failures += 1


def changed() -> None:
    """Staff changed the servers (any thread): refresh here now, and in every process."""
    for discovery in list(_running):
        try:
            discovery.loop.call_soon_threadsafe(discovery.kick)
        except RuntimeError:
            pass  # Its loop has closed.
    from ..chat.frames.process import McpChanged
    from ..provider.availability import tell_other_processes

    # The others still refresh within CHAT_MCP_REFRESH_SECONDS if this fails.
    tell_other_processes(McpChanged.build(), what="the MCP servers changed")


def _on_saved(sender, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(changed)


def _on_deleted(sender, instance, **kwargs) -> None:
    """A server's access rule goes with it (a new server never inherits an old one's)."""
    from ..access import kinds
    from ..access import services as access_services

    access_services.rules_forget(kind=kinds.MCP_SERVER, names=[str(instance.pk)])
    _on_saved(sender)


def connect_signals() -> None:
    """Refresh on every save and delete of an entry; keep header values out of the log."""
    from django.db.models.signals import post_delete, post_save

    from ..log_redaction import add_secrets

    add_secrets(header_values)

    from .models import McpServer

    post_save.connect(_on_saved, sender=McpServer, dispatch_uid="mcp-server-saved")
    post_delete.connect(_on_deleted, sender=McpServer, dispatch_uid="mcp-server-deleted")
