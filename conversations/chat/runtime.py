"""This server process's side of running turns: who it is, what runs here, and its loops.

One Runtime per event loop (one per daphne process; one per test). It holds:
- the process's identity, written into the leases of the turns it runs;
- the turns running here (`turns`), by conversation;
- the group commit every turn's database work goes through;
- four background loops: lease renewal (a few times a lease, on a lane and a thread of
  its own, so it never waits behind the batches it keeps alive), the progress save
  (every SAVE_INTERVAL, one transaction for all streaming replies; then the tokens replies
  used, for the daily quotas), the sweep (replies whose process died are interrupted once
  their lease has expired and their process does not answer), and the control channel,
  where stop, snapshot and liveness requests from other processes arrive, and news that
  staff changed the models, who may use what, or the MCP servers (the channel joins
  PROCESSES_GROUP, which every process joins);
- the model catalog and the access rules in memory (provider/catalog.py, access/policy.py),
  loaded at start and kept fresh; and the MCP servers' tools (mcp_servers/discovery.py),
  listed off the turns' path and watched.

A loop's failure is logged and the loop goes on; each database step is bounded in time
(STEP_TIMEOUT), so no loop can hang on one.
"""

import asyncio
import contextvars
import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from pydantic import ValidationError

from .. import hooks
from ..access import policy as access_policy
from ..limits import turn_limits
from ..mcp_servers import discovery as mcp_discovery
from ..provider import availability, catalog, upstream
from ..turns import running as running_turns
from . import approvals, broadcast, frames, socket_slots, sweep
from .frames import process as control
from .frames.base import Received
from .group_commit import GroupCommit, bounded

if TYPE_CHECKING:
    from .turn_state import Turn

logger = logging.getLogger(__name__)

SAVE_INTERVAL = 1.0  # Partial text reaches the database about once a second.


def lease_interval() -> float:
    """How often leases are renewed: a few times within each lease."""
    return min(SAVE_INTERVAL, settings.CHAT_TURN_LEASE_SECONDS / 4)


class Runtime:
    """Turns running in this process, and the loops that look after them."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.process_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.turns: dict[int, Turn] = {}
        # Finishes, saves and tool results share one lane: their rows overlap, and one lane
        # cannot deadlock with itself. Starts touch only their own conversation's rows.
        self.commit = GroupCommit()
        # Lease renewal: a lane of its own, never queued behind the batches of the replies
        # it keeps alive; on PostgreSQL a thread and connection of its own too, so that it
        # waits on no batch in the database either (SQLite has one writer at a time: there
        # a second connection would only wait on the first, or fail at once in a shared
        # in-memory database).
        self.leases = GroupCommit(own_thread=connection.vendor == "postgresql")
        self.starts = (
            GroupCommit(workers=settings.CHAT_START_WORKERS)
            if connection.vendor == "postgresql"
            else self.commit
        )
        self.hub = broadcast.Hub(self)
        self.sockets = socket_slots.SocketSlots(self)
        self.channel: str | None = None  # This process's control channel.
        self.draining = False
        self._tasks: list[asyncio.Task] = []
        self._ready = asyncio.Event()
        # Liveness questions this process asked, by conversation: answered by the process
        # that runs the conversation's turn (see sweep_now).
        self._alive: dict[int, asyncio.Future] = {}
        # The MCP servers' tools, listed and watched (mcp_servers/discovery.py).
        self.mcp = mcp_discovery.Discovery()

    def start(self) -> None:
        loops = {
            "leases": self._lease_loop,
            "save": self._save_loop,
            "sweep": self._sweep_loop,
            "control": self._control_loop,
            "catalog": self.refresh_catalog,
            "access": self.refresh_access,
            "mcp": self.mcp.run,
        }
        for name, loop in loops.items():
            self._tasks.append(self._spawn(loop(), name=f"runtime-{name}"))

    def _spawn(self, coroutine, *, name: str) -> asyncio.Task:
        # The loops outlive whatever first needed the runtime (a health check's request,
        # say): they must not inherit its context, asgiref's executor of that request.
        return self.loop.create_task(coroutine, name=name, context=contextvars.Context())

    async def stop(self) -> None:
        """Stop the loops (tests, shutdown)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.hub.close()
        await self.sockets.close()
        await upstream.close_client()
        await self.leases.close()
        if self.starts is not self.commit:
            self.starts.shutdown()
        # A loop cancelled mid-step leaves its database work running on the database thread:
        # once this empty call has had its turn there, none of the loops' work is in the
        # database any more (tests tear the database down next).
        await db(_nothing)()

    async def control_channel(self) -> str:
        """This process's control channel name, once the listener is up."""
        await self._ready.wait()
        assert self.channel is not None
        return self.channel

    # ---- leases ----------------------------------------------------------------------

    async def renew_leases(self) -> None:
        """Renew the lease of every turn running here; stop those another process took."""
        turns = [turn for turn in self.turns.values() if turn.leased]
        if not turns:
            return
        try:
            kept = await bounded(
                self.leases.run(
                    running_turns.turns_renew,
                    owner=self.process_id,
                    conversation_ids=[turn.conversation_id for turn in turns],
                )
            )
        except Exception:
            logger.exception("Renewing leases failed; will retry")
            return
        for turn in turns:
            # A turn that ended meanwhile released its lease itself: not lost.
            if (
                turn.leased
                and turn.conversation_id not in kept
                and self.turns.get(turn.conversation_id) is turn
            ):
                logger.warning("Lost the lease of conversation %s", turn.conversation_id)
                turn.stop_all(lost=True)

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(lease_interval())
            try:
                await self.renew_leases()
            except Exception:  # Never silent, never the end of the loop.
                logger.exception("The lease loop failed; going on")

    # ---- progress saves ----------------------------------------------------------------

    async def save_now(self) -> None:
        """Save every streaming reply's text: one transaction, each reply on its own (one
        that cannot be saved fails alone, and is tried again next time)."""
        turns = [each for turn in self.turns.values() for each in turn.everyone()]
        progress = {p.message_id: (turn, p) for turn in turns if (p := turn.take_progress())}
        if not progress:
            return
        try:
            failed = await bounded(
                self.commit.run(
                    running_turns.turns_flush, progress=[p for _, p in progress.values()]
                )
            )
        except Exception:
            logger.exception("Saving streaming replies failed; will retry")
            failed = set(progress)
        for message_id in failed:
            turn, item = progress[message_id]
            turn.progress_failed(item)

    async def write_tokens(self) -> None:
        """Add the tokens replies used here to their users' daily counts: one transaction,
        each user's count on its own (an account deleted meanwhile costs the others nothing)."""
        items = turn_limits.take_tokens()
        if not items:
            return
        try:
            failed = await bounded(self.commit.run(turn_limits.write_tokens, items=items))
        except Exception:
            logger.exception("Writing token counts failed; will retry")
            failed = items
        turn_limits.restore_tokens(failed)

    async def refresh_catalog(self) -> None:
        """Read staff's model rows, and the provider's list when it is due (the first list is
        asked for by the first turn, or the model picker: availability.current)."""
        try:
            await db(catalog.load_rows)()
            if upstream.listed_model_ids() is not None and upstream.models_stale():
                await upstream.provider_model_ids()
        except Exception:
            logger.exception("Refreshing the model catalog failed; will retry")

    async def refresh_access(self) -> None:
        """Read who may use what again (access/policy.py)."""
        try:
            await db(access_policy.load)()
        except Exception:
            logger.exception("Refreshing the access rules failed; will retry")

    async def _save_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            ticks += 1
            try:
                await self._save_round(ticks)
            except Exception:  # Never silent, never the end of the loop.
                logger.exception("The save loop failed; going on")

    async def _save_round(self, ticks: int) -> None:
        await self.save_now()
        await self.write_tokens()
        if ticks % round(catalog.ROWS_REFRESH / SAVE_INTERVAL) == 0:
            await self.refresh_catalog()
            await self.refresh_access()
        if ticks % 5 == 0:  # The dashboard's counts, written every few seconds.
            try:
                await bounded(self.commit.run(hooks.write_counts))
            except Exception:
                logger.exception("Writing the dashboard's counts failed; will retry")
        if ticks % 20 == 0:  # Which conversations this process watches, for the others.
            try:
                await self.hub.refresh()
                await self.sockets.refresh()
                # Group memberships expire in Redis (a day by default): renew ours.
                await get_channel_layer().group_add(
                    availability.PROCESSES_GROUP, await self.control_channel()
                )
            except Exception:
                logger.exception("Refreshing what this process watches failed")

    # ---- the sweep ---------------------------------------------------------------------

    async def sweep_now(self) -> None:
        """Interrupt replies whose process is gone, and tell their watchers (chat/sweep.py)."""
        await sweep.sweep_now(self)

    async def _sweep_loop(self) -> None:
        # At start-up too: a process that starts interrupts only turns whose lease expired.
        while True:
            await self.sweep_now()
            await asyncio.sleep(settings.CHAT_TURN_SWEEP_SECONDS)

    # ---- the control channel -----------------------------------------------------------

    async def _control_loop(self) -> None:
        layer = get_channel_layer()
        # The default prefix: channels-redis reads all of a process's channels from one
        # Redis list per prefix, with one reader at a time; a second prefix starves the first.
        self.channel = await layer.new_channel()
        try:
            await layer.group_add(availability.PROCESSES_GROUP, self.channel)
        except Exception:  # Then only the periodic refresh keeps this process's catalog fresh.
            logger.exception("Could not join the group of all server processes")
        self._ready.set()
        while True:
            try:
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Control channel receive failed")
                await asyncio.sleep(1)
                continue
            await self._on_control(message)

    async def _on_control(self, raw: dict) -> None:
        try:
            message = frames.PROCESS_MESSAGE.validate_python(raw)
        except ValidationError:  # From a process of another version, say: not half-read.
            logger.warning("Dropped a control message of another shape (%.50r)", raw.get("type"))
            return
        match message:
            case control.HubFrame():
                await self.hub.on_remote(message)
            case control.CatalogChanged():
                # Staff changed a model: read the rows again, beside whatever else arrives.
                self._tasks.append(self._spawn(self.refresh_catalog(), name="runtime-catalog"))
                self._tasks = [task for task in self._tasks if not task.done()]
            case control.AccessChanged():
                self._tasks.append(self._spawn(self.refresh_access(), name="runtime-access"))
                self._tasks = [task for task in self._tasks if not task.done()]
            case control.McpChanged():
                self.mcp.kick()
            case control.TurnRunning():
                future = self._alive.get(message.conversation)
                if future is not None and not future.done():
                    future.set_result(True)
            case (
                control.TurnAlive()
                | control.TurnStop()
                | control.TurnSnapshot()
                | control.TurnApprove()
                | control.TurnApprovals()
            ) if message.conversation in self.turns:
                await self._on_turn(message, self.turns[message.conversation])

    async def _on_turn(self, message: Received, turn: "Turn") -> None:
        match message:
            case control.TurnAlive():
                # Another process's sweep found this turn's lease expired (the database kept
                # its renewal waiting): the turn is alive here, so it must not be interrupted.
                await get_channel_layer().send(
                    message.reply_to,
                    control.TurnRunning.build(conversation=turn.conversation_id),
                )
            case control.TurnStop() if message.message is not None:
                if (one := turn.sibling(message.message)) is not None:
                    one.request_stop()
            case control.TurnStop():
                turn.stop_all()
            case control.TurnApprove():
                approvals.answer(turn, call_id=message.call_id, approve=message.approve)
            case control.TurnApprovals():
                # Another process watches from now on (it opened the conversation): the
                # turn's frames, the approval's end among them, must reach it.
                self.hub.watched_elsewhere_now(turn.conversation_id)
                for frame in approvals.pending_frames(turn):
                    await get_channel_layer().send(message.reply_to, frame)
            case control.TurnSnapshot():
                # Another process watches from now on: its deltas must go through the layer.
                self.hub.watched_elsewhere_now(turn.conversation_id)
                await get_channel_layer().send(message.reply_to, turn.snapshot().model_dump())

    # ---- stopping ------------------------------------------------------------------

    async def drain(self, timeout: float) -> None:
        """Take no new turns; let running ones finish, within `timeout`; then stop the rest.

        Turns still running at the deadline end `interrupted`, with their text saved.
        """
        self.draining = True
        deadline = self.loop.time() + timeout
        while self.turns and self.loop.time() < deadline:
            await asyncio.sleep(0.1)
        tasks = [turn.task for turn in self.turns.values() if turn.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.save_now()
        await self.write_tokens()
        try:
            await bounded(self.commit.run(hooks.write_counts))
        except Exception:
            logger.exception("Writing the dashboard's counts failed while stopping")


_runtimes: dict[asyncio.AbstractEventLoop, Runtime] = {}


def current() -> Runtime:
    """This event loop's runtime, started on first use."""
    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(loop)
    if runtime is None:
        for old in [known for known in _runtimes if known.is_closed()]:
            del _runtimes[old]
        runtime = _runtimes[loop] = Runtime()
        runtime.start()
    return runtime


broadcast.find_hubs_with(lambda: current().hub)


def existing() -> Runtime | None:
    """This event loop's runtime if it has started (nothing is started by asking)."""
    try:
        return _runtimes.get(asyncio.get_running_loop())
    except RuntimeError:
        return None


async def shutdown() -> None:
    """Stop this loop's runtime, if any (tests end with it)."""
    runtime = existing()
    if runtime is not None:
        await runtime.stop()
        del _runtimes[runtime.loop]


def _nothing() -> None:
    """Work that takes the database thread's next turn and does nothing."""
