"""The life of a turn: start, stop, snapshot and release, owned in one place.

A turn starts when the transaction that claimed its conversation's lease commits
(turns.starts.turn_begin_*); from that moment one task owns it, and that task's one
`try/finally` (`_own`) guarantees the end whatever happens on the way: the reply still
open is finished (stopped, interrupted or failed, with its text kept), every watcher
gets `message.completed`, and the lease is released. A stop that comes before the task
has run is a flag the task reads first, so it can never wedge a conversation.

Stops and snapshots for a turn running in another process travel over the channel
layer, to the group only that turn's process has joined (broadcast.control_group).
"""

import asyncio
import contextlib
import logging

from channels.layers import get_channel_layer
from django.contrib.auth.models import AbstractBaseUser

from ..errors import TurnRefused
from ..models import Message
from ..provider.availability import ModelPolicy
from ..turns import running as running_turns
from ..turns import starts as turn_starts
from . import approvals, broadcast, generation, outbound, runtime
from .assembly import TurnOptions
from .frames.process import TurnApprovals, TurnApprove, TurnSnapshot, TurnStop
from .turn_state import Turn

logger = logging.getLogger(__name__)

DRAINING = "The server is restarting: send your message again in a moment."
WATCH_TIMEOUT = 5.0
SENT_TIMEOUT = 1.0  # Announcing waits no longer for the request to leave (a slow connect).


async def send(
    *, user: AbstractBaseUser, request, options: TurnOptions, models: ModelPolicy, watch=None
) -> turn_starts.AlreadySent | None:
    """Save a user's message and start the reply; a resent one returns what was saved."""
    process, result = await _begin(
        turn_starts.turn_begin_send,
        user=user,
        options=options,
        client_id=request.client_id,
        conversation_id=request.conversation,
        content=request.content,
        change=request.change,
        edit_id=request.edit,
        attachment_ids=request.attachments,
        temporary=request.temporary,
        models=models,
        project_id=request.project,
        compare=request.compare,
        blind=request.blind,
    )
    if isinstance(result, turn_starts.AlreadySent):
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
        turn_starts.turn_begin_regenerate,
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
        turn_starts.turn_begin_continue,
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
    if begun.compare:
        _add_siblings(turn, started)
    process.turns[turn.conversation_id] = turn
    turn.task = process.loop.create_task(
        _own(turn, started, options, watch), name=f"turn-{turn.conversation_id}"
    )


def _add_siblings(turn: Turn, started: generation.Started) -> None:
    """A compare: a turn for each other reply, streaming under the first one's lease and
    task; their frames wait for the same announcement."""
    begun = started.begun
    turn.compare = begun.reply.compare_info
    turn.releases_on_finish = False
    for start, plan in zip(begun.compare[1:], started.plans[1:], strict=True):
        sibling = Turn(turn.conversation_id, turn.user_id, turn.process, begun.conversation)
        sibling.begin(start.reply.pk, plan.record)
        start.reply.request = plan.record
        sibling.compare = start.reply.compare_info
        sibling.releases_on_finish = False
        sibling.leased = False  # The first turn holds the lease, and releases it.
        sibling.announced, sibling.sent = turn.announced, turn.sent
        sibling.first_frame = turn.first_frame
        turn.siblings.append(sibling)


async def _own(turn: Turn, started: generation.Started, options: TurnOptions, watch) -> None:
    """Everything from a committed start to the released lease."""
    process = turn.process
    group = broadcast.control_group(turn.conversation_id)
    layer = get_channel_layer()
    # Announcing and joining the control group wait until the request has gone upstream
    # (turn.sent), then overlap the provider's time to answer: the reply's frames wait
    # for the announcement (turn.announced), not the other way.
    held = [broadcast.group_name(turn.conversation_id), broadcast.user_group_name(turn.user_id)]
    process.hub.hold_remote(held, turn.first_frame)
    setup = process.loop.create_task(_set_up(turn, started, watch, group))
    try:
        if started.begun.compare:
            await generation.run_compare(turn, started)
        else:
            await generation.run_turn(turn, started.begun, started.plan, options)
    except asyncio.CancelledError:
        logger.warning("Turn in conversation %s was cancelled", turn.conversation_id)
        for each in turn.everyone():
            each.cancelled = True
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
        # Its tags were read as the turn began (turns/starts.py).
        await broadcast.publish_to_user(
            conversation.owner_id, outbound.conversation_updated(conversation)
        )
    if begun.user_message is not None:
        await broadcast.publish(
            conversation.pk, outbound.message_created(conversation.pk, begun.user_message)
        )
    # The reply, or a compare's replies in column order.
    replies = [start.reply for start in begun.compare] if begun.compare else [begun.reply]
    for reply in replies:
        await broadcast.publish(conversation.pk, outbound.message_created(conversation.pk, reply))


async def _settle(turn: Turn) -> None:
    """Leave nothing open: finish the reply still streaming, release the lease, forget the turn."""
    process = turn.process
    try:
        for each in turn.everyone():
            if each.lost:  # A lost lease stops them all, lost (Turn.stop_all).
                pass  # Another process swept this turn up: its replies are not ours to finish.
            elif each.message_id is not None:
                await generation.finish_reply(each, _ending(each))
            elif each.phase == "tools":
                await generation.closing_note(each, _ending(each).get("error") or _STOPPED_IN_TOOLS)
    except BaseException:
        logger.exception("Could not finish the reply in conversation %s", turn.conversation_id)
    finally:
        if process.turns.get(turn.conversation_id) is turn:
            del process.turns[turn.conversation_id]
        if turn.leased and not turn.lost:
            await _quietly(
                process.commit.run(
                    running_turns.turn_release,
                    conversation_id=turn.conversation_id,
                    owner=process.process_id,
                )
            )


_STOPPED_IN_TOOLS = "Stopped while tools were running."


def _ending(turn: Turn) -> dict:
    """How a turn that ended early says so."""
    if turn.cancelled:
        return {"status": Message.Status.INTERRUPTED, "error": running_turns.INTERRUPTED}
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


async def stop(conversation_id: int, message_id: int | None = None) -> None:
    """Stop the turn running in a conversation, in whichever process runs it: every reply
    it writes, or (`message_id`) one reply of a compare."""
    turn = local(conversation_id)
    if turn is not None:
        if message_id is None:
            turn.stop_all()
        elif (one := turn.sibling(message_id)) is not None:
            one.request_stop()
        return
    await get_channel_layer().group_send(
        broadcast.control_group(conversation_id),
        TurnStop.build(conversation=conversation_id, message=message_id),
    )


async def approve(conversation_id: int, call_id: str, *, approved: bool) -> None:
    """The user's answer to a tool call waiting in a conversation's turn, wherever it runs
    (routed as a stop is); an answer that finds no such call changes nothing."""
    turn = local(conversation_id)
    if turn is not None:
        approvals.answer(turn, call_id=call_id, approve=approved)
        return
    await get_channel_layer().group_send(
        broadcast.control_group(conversation_id),
        TurnApprove.build(conversation=conversation_id, call_id=call_id, approve=approved),
    )


async def request_approvals(conversation_id: int, reply_to: str) -> None:
    """Ask the process running a conversation's turn to send its pending approvals to a
    socket (`tool.approval_requested`, one each)."""
    await get_channel_layer().group_send(
        broadcast.control_group(conversation_id),
        TurnApprovals.build(conversation=conversation_id, reply_to=reply_to),
    )


async def wait_ended(conversation_id: int, *, timeout: float) -> None:
    """Wait (a bounded time) for a turn in this process to end."""
    turn = local(conversation_id)
    if turn is not None and turn.task is not None:
        await asyncio.wait({turn.task}, timeout=timeout)


async def request_snapshot(conversation_id: int, reply_to: str) -> None:
    """Ask the process running a conversation's turn for its reply so far (`chat.snapshot`)."""
    await get_channel_layer().group_send(
        broadcast.control_group(conversation_id),
        TurnSnapshot.build(conversation=conversation_id, reply_to=reply_to),
    )
