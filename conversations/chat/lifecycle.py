"""The life of a turn: start, stop, snapshot and release, owned in one place.

A turn starts when the transaction that claimed its conversation's lease commits
(turn_services.turn_begin_*); from that moment one task owns it, and that task's one
`try/finally` (`_own`) guarantees the end whatever happens on the way: the reply still
open is finished (stopped, interrupted or failed, with its text kept), every watcher
gets `message.completed`, and the lease is released. A stop that comes before the task
has run is a flag the task reads first, so it can never wedge a conversation.

Stops and snapshots for a turn running in another process travel over the channel
layer, to the group only that turn's process has joined (runtime.control_group).
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from channels.layers import get_channel_layer
from django.contrib.auth.models import AbstractBaseUser

from .. import turn_services
from ..errors import TurnRefused
from ..models import Conversation, Message
from ..provider.availability import ModelPolicy
from . import broadcast, generation, outbound, runtime
from .assembly import TurnOptions
from .blocks import BlockSplitter
from .frames.process import ChatSnapshot, TurnSnapshot, TurnStop
from .text import TextBuffer

logger = logging.getLogger(__name__)

DRAINING = "The server is restarting: send your message again in a moment."
WATCH_TIMEOUT = 5.0
SENT_TIMEOUT = 1.0  # Announcing waits no longer for the request to leave (a slow connect).


@dataclass
class Wait:
    """What a streaming reply waits for: the provider's first (or next) words, or the next
    try of a request the provider refused for now (`message.waiting`)."""

    state: str  # "waiting" or "retrying"
    since: float  # Loop time the silence began (waiting).
    until: float  # Loop time of the next try (retrying).
    reason: str = ""
    sent: bool = False  # Its frame has gone out.

    def shown(self, now: float) -> dict:
        """The frame's fields: seconds silent so far, or left until the next try."""
        seconds = now - self.since if self.state == "waiting" else self.until - now
        shown: dict = {"state": self.state, "seconds": max(0, round(seconds))}
        if self.reason:
            shown["reason"] = self.reason
        return shown


@dataclass(eq=False)
class Turn:
    """A turn running in this process: the reply streaming now, and how far frames got."""

    conversation_id: int
    user_id: int
    process: runtime.Runtime
    conversation: Conversation | None = None
    message_id: int | None = None  # The assistant message streaming now; None between.
    tail: Message | None = None  # The turn's latest saved message (tool rounds).
    content: TextBuffer = field(default_factory=TextBuffer)
    reasoning: TextBuffer = field(default_factory=TextBuffer)
    seq: int = 0  # Frames sent for the current message.
    sent_content: int = 0  # How much of `content` frames have carried.
    sent_reasoning: int = 0
    blocks: BlockSplitter | None = None
    blocks_html: list[str] = field(default_factory=list)  # Finished blocks, as sent.
    record: dict | None = None  # What the current reply's request was made of.
    resumed: Message | None = None  # A continued reply, as it was before (see begin).
    record_saved: bool = False
    saved: tuple[int, int] = (0, 0)  # Lengths of content and reasoning last saved.
    leased: bool = True
    stop_requested: bool = False
    lost: bool = False  # Another process took the lease: this one must not finish it.
    cancelled: bool = False  # The process is shutting down under the turn.
    phase: str = "reply"  # "reply" or "tools".
    heard: float = 0.0  # Loop time the provider was last heard from (or the request left).
    waiting: Wait | None = None  # The reply waits for its provider, and watchers know.
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    announced: asyncio.Event = field(default_factory=asyncio.Event)  # The start is published.
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # The first request has left.
    # The first delta has gone to this process's sockets (or the turn ended): the turn's
    # Redis work, held until then, may run (broadcast.Hub.hold_remote).
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    reading: asyncio.Task | None = None  # The upstream read of the current reply.

    def begin(
        self, message_id: int, record: dict | None, *, resumed: Message | None = None
    ) -> None:
        """Start streaming into an assistant message: a new one, or `resumed`, continued.

        A continued reply's text is already on every screen: it seeds the buffers as sent,
        and the Markdown blocks it finished are its first finished blocks, so frames,
        snapshots and the final save are of the whole reply.
        """
        from ..rendering import ReplyRenderer

        self.message_id = message_id
        self.content, self.reasoning = TextBuffer(), TextBuffer()
        self.seq = self.sent_content = self.sent_reasoning = 0
        self.blocks, self.blocks_html = BlockSplitter(ReplyRenderer()), []
        self.record, self.record_saved, self.saved = record, False, (0, 0)
        self.phase = "reply"
        self.heard, self.waiting = self.process.loop.time(), None
        self.resumed = resumed
        if resumed is not None:
            self.content.append(resumed.content)
            self.reasoning.append(resumed.reasoning)
            self.content.take_unsent()
            self.reasoning.take_unsent()
            self.sent_content, self.sent_reasoning = len(self.content), len(self.reasoning)
            self.saved = (self.sent_content, self.sent_reasoning)
            self.blocks.feed(resumed.content)
            finished = self.blocks.split()
            if finished is not None:
                self.blocks_html.append(finished)

    def request_stop(self, *, lost: bool = False) -> None:
        """Stop after what has streamed so far; safe at any moment, even before the start."""
        self.stop_requested = True
        self.lost = self.lost or lost
        self.stopping.set()
        if self.reading is not None:
            self.reading.cancel()

    def wait(self, *, state: str, seconds: float, reason: str = "") -> None:
        """Note that the reply waits: silent for `seconds` so far, or retried in `seconds`."""
        now = self.process.loop.time()
        if state == "waiting":
            self.waiting = Wait(state, since=now - seconds, until=now, reason=reason)
        else:
            self.waiting = Wait(state, since=now, until=now + seconds, reason=reason)

    def snapshot(self) -> ChatSnapshot:
        """The current reply as the frames so far have shown it: text, finished blocks, seq,
        and what it waits for, if its watchers were told."""
        waiting = self.waiting
        return ChatSnapshot(
            conversation=self.conversation_id,
            message=self.message_id,
            content=self.content.text()[: self.sent_content],
            reasoning=self.reasoning.text()[: self.sent_reasoning],
            seq=self.seq,
            stable=self.blocks.stable if self.blocks else 0,
            html="".join(self.blocks_html),
            waiting=waiting.shown(self.process.loop.time())
            if waiting is not None and waiting.sent
            else None,
        )

    def take_progress(self) -> turn_services.Progress | None:
        """The current reply's unsaved text (and record), marked saved; None if nothing new."""
        if self.message_id is None:
            return None
        lengths = (len(self.content), len(self.reasoning))
        if lengths == self.saved and self.record_saved:
            return None
        self.saved = lengths
        record, self.record_saved = (None if self.record_saved else self.record), True
        return turn_services.Progress(
            self.message_id, self.content.text(), self.reasoning.text(), record
        )

    def progress_failed(self, progress: turn_services.Progress) -> None:
        """A save that failed is tried again with the next one."""
        if progress.message_id == self.message_id:
            self.saved = (-1, -1)
            self.record_saved = self.record_saved and progress.request is None


async def send(
    *, user: AbstractBaseUser, request, options: TurnOptions, models: ModelPolicy, watch=None
) -> turn_services.AlreadySent | None:
    """Save a user's message and start the reply; a resent one returns what was saved."""
    process, result = await _begin(
        turn_services.turn_begin_send,
        user=user,
        options=options,
        client_id=request.client_id,
        conversation_id=request.conversation,
        content=request.content,
        change=request.change,
        edit_id=request.edit,
        models=models,
    )
    if isinstance(result, turn_services.AlreadySent):
        return result
    _launch(process, user.pk, result, options, watch)
    return None


async def regenerate(
    *,
    user: AbstractBaseUser,
    conversation_id: int,
    message_id: int,
    options: TurnOptions,
    models: ModelPolicy,
) -> None:
    """Write a new version of an assistant reply."""
    process, started = await _begin(
        turn_services.turn_begin_regenerate,
        user=user,
        options=options,
        conversation_id=conversation_id,
        message_id=message_id,
        models=models,
    )
    _launch(process, user.pk, started, options)


async def continue_reply(
    *, user: AbstractBaseUser, conversation_id: int, message_id: int, models: ModelPolicy
) -> None:
    """Write more of an assistant reply, into the same message."""
    options = TurnOptions(tools=[])
    process, started = await _begin(
        turn_services.turn_begin_continue,
        user=user,
        options=options,
        conversation_id=conversation_id,
        message_id=message_id,
        models=models,
    )
    _launch(process, user.pk, started, options)


async def _begin(begin, *, user: AbstractBaseUser, options: TurnOptions, **fields):
    """Run a turn's start in the next shared transaction, planned once it has committed."""
    process = runtime.current()
    if process.draining:
        raise TurnRefused("unavailable", DRAINING)
    result = await process.starts.run(
        begin,
        after=generation.planner(options),
        order=user.pk,  # Starts lock their user's allowance row: always in user order.
        repeatable=True,  # A start writes only rows: its batch may run twice.
        user=user,
        owner=process.process_id,
        **fields,
    )
    return process, result


def _launch(
    process: runtime.Runtime, user_id: int, started: generation.Started, options, watch=None
) -> None:
    # No await between the commit and the task: nothing can come between them.
    begun = started.begun
    turn = Turn(begun.conversation.pk, user_id, process, conversation=begun.conversation)
    turn.begin(
        begun.reply.pk, started.plan.record, resumed=begun.reply if begun.continued else None
    )
    begun.reply.request = started.plan.record
    process.turns[turn.conversation_id] = turn
    turn.task = process.loop.create_task(
        _own(turn, started, options, watch), name=f"turn-{turn.conversation_id}"
    )


async def _own(turn: Turn, started: generation.Started, options: TurnOptions, watch) -> None:
    """Everything from a committed start to the released lease."""
    process = turn.process
    group = runtime.control_group(turn.conversation_id)
    layer = get_channel_layer()
    # Announcing and joining the control group wait until the request has gone upstream
    # (turn.sent), then overlap the provider's time to answer: the reply's frames wait
    # for the announcement (turn.announced), not the other way.
    held = [broadcast.group_name(turn.conversation_id), broadcast.user_group_name(turn.user_id)]
    process.hub.hold_remote(held, turn.first_frame)
    setup = process.loop.create_task(_set_up(turn, started, watch, group))
    try:
        await generation.run_turn(turn, started.begun, started.plan, options)
    except asyncio.CancelledError:
        logger.warning("Turn in conversation %s was cancelled", turn.conversation_id)
        turn.cancelled = True
        raise
    except Exception:
        logger.exception("Turn in conversation %s failed", turn.conversation_id)
    finally:
        turn.sent.set()  # The turn ended before any request: announce what there is.
        turn.first_frame.set()
        process.hub.release_remote(held, turn.first_frame)
        await asyncio.wait({setup})
        await _settle(turn)
        if setup.done() and not setup.cancelled() and setup.result():
            await _quietly(layer.group_discard(group, process.channel))


async def _set_up(turn: Turn, started: generation.Started, watch, group: str) -> bool:
    """Watch, announce, then listen for stops from other processes; True once joined."""
    try:
        if watch is not None:
            await _quietly(asyncio.wait_for(watch(turn.conversation_id), WATCH_TIMEOUT))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(turn.sent.wait(), SENT_TIMEOUT)
        await _quietly(_announce(started, turn))
    finally:
        turn.announced.set()  # Even when announcing failed: the reply must not wait forever.
    # Stops and snapshot requests from other processes: like the turn's other Redis work,
    # once its first frame is out (a few milliseconds) or REMOTE_HOLD has passed.
    await broadcast.held_until(turn.first_frame)
    try:
        await get_channel_layer().group_add(group, await turn.process.control_channel())
    except Exception:  # Without it, only stops from this process reach the turn.
        logger.exception("Could not listen for stops of conversation %s", turn.conversation_id)
        return False
    return True


async def _announce(started: generation.Started, turn: Turn) -> None:
    begun = started.begun
    conversation = begun.conversation
    if begun.continued:
        snapshot = turn.snapshot()
        await broadcast.publish(
            conversation.pk,
            outbound.message_continued(
                conversation.pk, begun.reply, html=snapshot.html, stable=snapshot.stable
            ),
        )
        return
    if begun.created:
        await broadcast.publish_to_user(
            conversation.owner_id, outbound.conversation_created(conversation)
        )
    elif begun.changed:  # The message chose another persona, model or parameters.
        await broadcast.publish_to_user(
            conversation.owner_id, outbound.conversation_updated(conversation)
        )
    if begun.user_message is not None:
        await broadcast.publish(
            conversation.pk, outbound.message_created(conversation.pk, begun.user_message)
        )
    await broadcast.publish(conversation.pk, outbound.message_created(conversation.pk, begun.reply))


async def _settle(turn: Turn) -> None:
    """Leave nothing open: finish the reply still streaming, release the lease, forget the turn."""
    process = turn.process
    try:
        if turn.lost:
            pass  # Another process swept this turn up: its reply is no longer ours to finish.
        elif turn.message_id is not None:
            await generation.finish_reply(turn, _ending(turn))
        elif turn.phase == "tools":
            await generation.closing_note(turn, _ending(turn).get("error") or _STOPPED_IN_TOOLS)
    except BaseException:
        logger.exception("Could not finish the reply in conversation %s", turn.conversation_id)
    finally:
        if process.turns.get(turn.conversation_id) is turn:
            del process.turns[turn.conversation_id]
        if turn.leased and not turn.lost:
            await _quietly(
                process.commit.run(
                    turn_services.turn_release,
                    conversation_id=turn.conversation_id,
                    owner=process.process_id,
                )
            )


_STOPPED_IN_TOOLS = "Stopped while tools were running."


def _ending(turn: Turn) -> dict:
    """How a turn that ended early says so."""
    if turn.cancelled:
        return {"status": Message.Status.INTERRUPTED, "error": turn_services.INTERRUPTED}
    if turn.stop_requested:
        return {"status": Message.Status.STOPPED, "error": ""}
    return {
        "status": Message.Status.ERROR,
        "error": "Something went wrong on the server while writing this reply.",
    }


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("Cleanup after a turn failed")


def local(conversation_id: int) -> Turn | None:
    """The turn running in a conversation in this process, if any."""
    process = runtime.existing()
    return process.turns.get(conversation_id) if process else None


async def stop(conversation_id: int) -> None:
    """Stop the turn running in a conversation, in whichever process runs it."""
    turn = local(conversation_id)
    if turn is not None:
        turn.request_stop()
        return
    await get_channel_layer().group_send(
        runtime.control_group(conversation_id),
        TurnStop.build(conversation=conversation_id),
    )


async def wait_ended(conversation_id: int, *, timeout: float) -> None:
    """Wait (a bounded time) for a turn in this process to end."""
    turn = local(conversation_id)
    if turn is not None and turn.task is not None:
        await asyncio.wait({turn.task}, timeout=timeout)


async def request_snapshot(conversation_id: int, reply_to: str) -> None:
    """Ask the process running a conversation's turn for its reply so far (`chat.snapshot`)."""
    await get_channel_layer().group_send(
        runtime.control_group(conversation_id),
        TurnSnapshot.build(conversation=conversation_id, reply_to=reply_to),
    )
