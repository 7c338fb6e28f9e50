"""Frames to sockets: every socket watching a conversation, every socket of a user.

Each process keeps its own sockets by conversation and by user, and hands a frame to
them directly. Other processes get it through the channel layer only when they watch:
each process joins a conversation's (or user's) channel-layer group with its one control
channel while any of its sockets watch, and keeps a note in Redis of which processes
watch which conversation. A reply whose watchers all share its process (the usual case)
costs Redis nothing per frame; with the in-memory layer there are no other processes.

This process's own sockets never wait on Redis: what goes to other processes is queued
per group and sent in order by one task per group (`_post`).
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from .frames.process import HubFrame

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger(__name__)

WATCHING_TTL = 60.0  # A process's note that it watches a conversation, refreshed while true.
REMOTE_CACHE = 1.0  # How long a publisher trusts what it read of other processes' watching.
# Frames of one group waiting to go to other processes; past it the oldest go, and a
# watcher there sees a gap in `seq` and asks again (docs/protocol.md).
REMOTE_QUEUE = 1000
# How long a starting turn may keep its conversation's and user's Redis work (joining the
# group, frames for other processes) waiting for its first frame: see Hub.hold_remote.
REMOTE_HOLD = 0.2


async def held_until(until: asyncio.Event) -> None:
    """Wait for `until`, REMOTE_HOLD at most: how long a turn's held Redis work waits."""
    if not until.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), REMOTE_HOLD)


class Watcher(Protocol):
    """A socket, as the hub sees it."""

    async def deliver(self, frame: dict) -> None: ...


def group_name(conversation_id: int) -> str:
    """The channel-layer group of the processes watching one conversation."""
    return f"conversation.{conversation_id}"


def user_group_name(user_id: int) -> str:
    """The channel-layer group of the processes with sockets of one user."""
    return f"user.{user_id}"


def redis_client(*, socket_timeout: float | None):
    """A client of REDIS_URL whose pool waits for a free connection (up to 10 s) when all 50
    are busy: redis-py's plain pool refuses past its 100, and a burst of turns or connects
    then failed."""
    import redis.asyncio as redis

    pool = redis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=50, timeout=10, socket_timeout=socket_timeout
    )
    return redis.Redis(connection_pool=pool)


class Hub:
    """This process's sockets, and which conversations other processes watch."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.sockets: dict[str, set[Watcher]] = {}  # Group name -> this process's sockets.
        self._remote: dict[int, tuple[float, bool]] = {}  # Conversation -> (until, watched).
        self._outbox: dict[str, deque] = {}  # Group -> frames for other processes, in order.
        self._tasks: set[asyncio.Task] = set()  # Sending those, and joins left to finish.
        self._holds: dict[str, asyncio.Event] = {}  # Group -> the event its Redis work awaits.
        self._redis = None
        if settings.REDIS_URL:
            self._redis = redis_client(socket_timeout=None)

    # ---- sockets joining and leaving ------------------------------------------------

    async def join(self, group: str, socket: Watcher, *, wait: bool = True) -> None:
        """A socket starts receiving a group's frames: at once from this process, and from
        other processes once this one has joined the group in Redis. `wait=False` lets
        that finish in the background (a turn's own conversation: its frames are made here).
        """
        members = self.sockets.setdefault(group, set())
        first = not members
        members.add(socket)
        if first and self._redis is not None:
            if wait:
                await self._register(group)
            else:
                self._background(self._register(group, held=True))

    async def _register(self, group: str, *, held: bool = False) -> None:
        if held:
            await self._held(group)
        channel = await self.runtime.control_channel()
        await get_channel_layer().group_add(group, channel)
        await self._note_watching(group)

    def _background(self, work) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Reaching the other processes failed", exc_info=task.exception())

    def hold_remote(self, groups: list[str], until: asyncio.Event) -> None:
        """Let these groups' Redis work started from now on (a background join, frames for
        other processes) wait until `until` is set, REMOTE_HOLD at most.

        A turn's start sets off a dozen Redis commands (joining its conversation's group,
        noting that this process watches it, its frames to the user's other processes):
        run at once, they took the interpreter from the reply's first token, which the
        provider may send within a millisecond. Held, they run once that token is on the
        page, or while a slower provider is still thinking. Frames stay in order: each
        group's are sent by one task, which waits first.
        """
        for group in groups:
            self._holds[group] = until

    def release_remote(self, groups: list[str], until: asyncio.Event) -> None:
        """Forget the holds `until` put on these groups (its turn has ended)."""
        for group in groups:
            if self._holds.get(group) is until:
                del self._holds[group]

    async def _held(self, group: str) -> None:
        until = self._holds.get(group)
        if until is not None:
            await held_until(until)

    async def leave(self, group: str, socket: Watcher) -> None:
        """A socket stops receiving a group's frames."""
        members = self.sockets.get(group)
        if not members or socket not in members:
            return
        members.discard(socket)
        if members:
            return
        del self.sockets[group]
        if self._redis is not None:
            await get_channel_layer().group_discard(group, self.runtime.channel)
            if group.startswith("conversation."):
                await self._redis.zrem(_watching_key(group), self.runtime.process_id)

    async def _note_watching(self, group: str) -> None:
        if group.startswith("conversation."):
            await self._redis.zadd(_watching_key(group), {self.runtime.process_id: time.time()})
            await self._redis.expire(_watching_key(group), int(WATCHING_TTL * 2))

    async def refresh(self) -> None:
        """Renew this process's notes of what it watches (the runtime calls this)."""
        if self._redis is None:
            return
        groups = [g for g in self.sockets if g.startswith("conversation.")]
        async with self._redis.pipeline(transaction=False) as pipe:
            for group in groups:
                pipe.zadd(_watching_key(group), {self.runtime.process_id: time.time()})
                pipe.expire(_watching_key(group), int(WATCHING_TTL * 2))
            await pipe.execute()

    # ---- frames -------------------------------------------------------------------

    async def publish(self, conversation_id: int, frame: dict) -> None:
        """A frame for every socket watching a conversation, in any process."""
        group = group_name(conversation_id)
        await self._deliver(group, frame)
        if self._redis is None:
            return
        if self._cached_watched(conversation_id) is False and group not in self._outbox:
            return  # Known to be watched only here (the usual case): nothing to queue.
        self._post(group, frame, conversation_id)

    async def publish_to_user(self, user_id: int, frame: dict) -> None:
        """A frame for every socket of one user, in any process (rare: always sent on)."""
        group = user_group_name(user_id)
        await self._deliver(group, frame)
        if self._redis is not None:
            self._post(group, frame, None)

    def _post(self, group: str, frame: dict, conversation_id: int | None) -> None:
        """Queue a frame for the other processes; one task per group sends them in order."""
        queue = self._outbox.get(group)
        if queue is None:
            queue = self._outbox[group] = deque()
            self._background(self._send_queued(group, queue, conversation_id))
        if len(queue) >= REMOTE_QUEUE:
            queue.popleft()
            logger.warning("Frames for other processes are piling up (%s): dropped one", group)
        queue.append(frame)

    async def _send_queued(self, group: str, queue: deque, conversation_id: int | None) -> None:
        try:
            await self._held(group)
            while queue:
                frame = queue.popleft()
                if conversation_id is None or await self._watched_elsewhere(conversation_id):
                    await self._send_remote(group, frame)
        finally:
            # No await since the queue was last seen empty: nothing was added meanwhile.
            if self._outbox.get(group) is queue:
                del self._outbox[group]

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait (a bounded time) for queued frames and joins to reach Redis."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def watched_elsewhere_now(self, conversation_id: int) -> None:
        """Another process has just started watching (it asked for a snapshot)."""
        self._remote[conversation_id] = (time.monotonic() + REMOTE_CACHE, True)

    def _cached_watched(self, conversation_id: int) -> bool | None:
        """Whether another process watches, as last read within REMOTE_CACHE; None if unknown."""
        until, watched = self._remote.get(conversation_id, (0.0, False))
        return watched if time.monotonic() < until else None

    async def _watched_elsewhere(self, conversation_id: int) -> bool:
        cached = self._cached_watched(conversation_id)
        if cached is not None:
            return cached
        try:
            members = await self._redis.zrangebyscore(
                _watching_key(group_name(conversation_id)), time.time() - WATCHING_TTL, "+inf"
            )
        except Exception:
            logger.exception("Could not read which processes watch a conversation")
            return True
        me = self.runtime.process_id.encode()
        watched = any(member != me for member in members)
        if len(self._remote) > 10_000:
            self._remote.clear()
        self._remote[conversation_id] = (time.monotonic() + REMOTE_CACHE, watched)
        return watched

    async def _send_remote(self, group: str, frame: dict) -> None:
        """On to the other processes. A failure there (Redis away or saturated) must not
        cost this process's own sockets what was already delivered, nor the frames after."""
        try:
            await get_channel_layer().group_send(
                group,
                HubFrame.build(group=group, origin=self.runtime.process_id, frame=frame),
            )
        except Exception:
            logger.exception("Could not send a frame to the other processes (%s)", group)

    async def on_remote(self, message: HubFrame) -> None:
        """A frame another process published, for this process's sockets."""
        if message.origin != self.runtime.process_id:
            await self._deliver(message.group, message.frame)

    async def _deliver(self, group: str, frame: dict) -> None:
        for socket in list(self.sockets.get(group, ())):
            try:
                await socket.deliver(frame)
            except Exception:
                logger.exception("Delivering a frame to a socket failed")

    async def close(self) -> None:
        await self.settle(timeout=2.0)
        if self._redis is not None:
            await asyncio.shield(self._redis.aclose())


def _watching_key(group: str) -> str:
    return f"chat:watching:{group}"


# How to find the running process's hub: told by chat/runtime.py, which owns the hub (this
# module cannot import the runtime, which imports it).
_find_hub: Callable[[], Hub] | None = None


def find_hubs_with(find: Callable[[], Hub]) -> None:
    """How `publish` finds the hub of the running process (its runtime's)."""
    global _find_hub
    _find_hub = find


def _hub() -> Hub:
    assert _find_hub is not None, "chat.runtime tells broadcast where hubs are when imported"
    return _find_hub()


async def publish(conversation_id: int, frame: dict) -> None:
    """Send a frame to every socket watching a conversation."""
    await _hub().publish(conversation_id, frame)


async def publish_to_user(user_id: int, frame: dict) -> None:
    """Send a frame to every socket of one user."""
    await _hub().publish_to_user(user_id, frame)


def control_group(conversation_id: int) -> str:
    """The channel-layer group of the process running a conversation's turn (if any)."""
    return f"turn.{conversation_id}"
