"""The turn loop: stream a reply; while it calls tools, run them and stream the next.

`lifecycle` owns the turn (its start, stop and release); this is what the turn does
in between. Every round's database work goes through the process's group commit.
"""

import asyncio
import logging
from dataclasses import dataclass

from django.conf import settings

from ..accounts import selectors as account_selectors
from ..models import Conversation, Message
from ..provider import catalog
from ..tools import calls, external
from ..tools import registry as tools
from ..turns import running as running_turns
from ..turns import starts as turn_starts
from . import approvals, broadcast, outbound, streaming, titles
from .assembly import ReplyPlan, TurnOptions, plan_continuation, plan_reply

logger = logging.getLogger(__name__)


@dataclass
class Started:
    """A committed turn start and the plan for its first reply (a compare: for each of its
    replies, in column order, the first one's in `plan` too)."""

    begun: turn_starts.Begun
    plan: ReplyPlan
    plans: list[ReplyPlan] | None = None


def planner(options: TurnOptions):
    """What runs on the database thread once a start has committed: plan the request."""

    def plan(begun):
        if not isinstance(begun, turn_starts.Begun):
            return begun  # A resend: nothing to plan.
        info = catalog.model_info(begun.reply.model)
        instructions = begun.custom_instructions
        if instructions is None:  # A tool round: its start read no limits.
            instructions = account_selectors.custom_instructions(
                user_id=begun.conversation.owner_id
            )
        if begun.continued:
            return Started(
                begun,
                plan_continuation(
                    conversation=begun.conversation,
                    branch=begun.branch,
                    info=info,
                    custom_instructions=instructions,
                ),
            )
        if begun.compare:
            # Each reply's request from its own view: its persona and model. Compared
            # replies call no tools: a compare is of answers, side by side.
            plans = [
                plan_reply(
                    conversation=start.view,
                    branch=begun.branch,
                    info=catalog.model_info(start.reply.model),
                    options=TurnOptions(tools=[]),
                    custom_instructions=instructions,
                )
                for start in begun.compare
            ]
            return Started(begun, plans[0], plans)
        return Started(
            begun,
            plan_reply(
                conversation=begun.conversation,
                branch=begun.branch,
                info=info,
                options=options,
                custom_instructions=instructions,
            ),
        )

    return plan


async def run_turn(turn, begun: turn_starts.Begun, plan: ReplyPlan, options) -> None:
    """Stream replies until one needs no tools (or the rounds run out, or a stop)."""
    conversation = begun.conversation
    turn.conversation = conversation
    first_turn = (
        begun.user_message is not None
        and begun.user_message.parent_id is None
        and conversation.title_source == Conversation.TitleSource.FIRST_MESSAGE
    )
    rounds = 0
    while True:
        outcome = await streaming.stream_reply(turn, plan)
        reply = outcome.message
        if reply is None or reply.status != Message.Status.COMPLETE or not outcome.tool_calls:
            if first_turn and reply is not None and reply.status == Message.Status.COMPLETE:
                titles.start_title(turn, conversation, plan, reply)
            return
        rounds += 1
        parent = await _run_tools(turn, conversation, outcome, offered=plan.tools)
        if parent is None:
            return  # Stopped while tools ran: lifecycle writes the closing note.
        if rounds >= settings.CHAT_MAX_TOOL_ROUNDS:
            turn.phase = "tools"
            await closing_note(
                turn, f"Stopped after {rounds} rounds of tool calls without a final answer."
            )
            return
        started = await turn.process.commit.run(
            turn_starts.turn_begin_round,
            after=planner(options),
            conversation=conversation,
            parent=parent,
            owner=turn.process.process_id,
        )
        plan = started.plan
        turn.begin(started.begun.reply.pk, plan.record)
        started.begun.reply.request = plan.record
        await broadcast.publish(
            conversation.pk, outbound.message_created(conversation.pk, started.begun.reply)
        )


async def run_compare(turn, started: Started) -> None:
    """Stream every reply of a compare at once, each in its own turn, to its own end: one
    stopped or failed leaves the others streaming."""
    begun = started.begun
    turn.conversation = begun.conversation
    pairs = list(zip(turn.everyone(), started.plans, strict=True))
    outcomes = await asyncio.gather(
        *(streaming.stream_reply(each, plan) for each, plan in pairs), return_exceptions=True
    )
    for outcome in outcomes:  # Its reply is finished as failed when the turn settles.
        if isinstance(outcome, BaseException):
            logger.error("A compared reply failed", exc_info=outcome)
    first = outcomes[0]
    if (
        begun.user_message is not None
        and begun.user_message.parent_id is None
        and begun.conversation.title_source == Conversation.TitleSource.FIRST_MESSAGE
        and isinstance(first, streaming.Outcome)
        and first.message is not None
        and first.message.status == Message.Status.COMPLETE
    ):
        titles.start_title(turn, begun.conversation, started.plan, first.message)


async def _run_tools(
    turn, conversation: Conversation, outcome: streaming.Outcome, *, offered: list[str]
) -> Message | None:
    """Run each call in turn and save its result, and the record of the call, under the
    last; None if stopped meanwhile."""
    turn.phase = "tools"
    parent = turn.tail = outcome.message
    cid = turn.conversation_id
    context = tools.ToolContext(user_id=turn.user_id, conversation_id=cid)
    for call in outcome.tool_calls:
        await broadcast.publish(cid, outbound.tool_call(cid, outcome.message.pk, call))
    for call in outcome.tool_calls:
        result = await _unless_stopped(
            turn,
            calls.call(
                call.name,
                call.arguments,
                context=context,
                timeout=settings.CHAT_TOOL_TIMEOUT,
                offered=offered,
                # Asked now, not when the request was planned: a server gone since, or
                # access taken away since, refuses the call.
                external=external.for_user(turn.user_id),
                approve=approvals.asker(turn, message_id=outcome.message.pk, call_id=call.id),
            ),
        )
        if result is None:
            return None
        parent = turn.tail = await turn.process.commit.run(
            running_turns.turn_append,
            conversation=conversation,
            parent=parent,
            role=Message.Role.TOOL,
            content=result.text,
            tool_call_id=call.id,
            tool_name=call.name,
            tool_record=result.record,
        )
        await broadcast.publish(cid, outbound.tool_result(cid, parent))
    return parent


# How long a stopped call may take to end once cancelled: a call that ignores its
# cancellation is left behind rather than holding the turn's end.
CANCEL_GRACE = 5.0
# How long a cancelled call is given to end before it is cancelled again (see
# _cancel_until_done): long enough for a runner to close its connection.
RECANCEL_EVERY = 1.0


async def _unless_stopped(turn, awaitable):
    """The awaitable's result, or None if the turn is stopped first (it is then cancelled,
    and awaited a bounded time, so the call in flight ends with the turn)."""
    if turn.stop_requested:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        return None
    work = asyncio.ensure_future(awaitable)
    stop = asyncio.ensure_future(turn.stopping.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        await _cancel_until_done(work, grace=CANCEL_GRACE)
    return work.result() if work.done() and not work.cancelled() else None


async def _cancel_until_done(work: asyncio.Future, *, grace: float) -> None:
    """Cancel `work` and wait, at most `grace` seconds, for it to end.

    One cancellation is not always enough: on Python 3.11, asyncio.wait_for swallows a
    cancellation that comes as its awaitable ends (redis-py sends every command under one,
    and the tool-call rate limit is counted in Redis), and the call then runs on as if no
    stop had come. So a call still running after RECANCEL_EVERY is cancelled again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while not work.done():
        left = deadline - loop.time()
        if left <= 0:
            return
        work.cancel()
        await asyncio.wait({work}, timeout=min(RECANCEL_EVERY, left))


async def closing_note(turn, note: str) -> None:
    """End a turn that has no reply to show with a stopped assistant message saying why."""
    message = await turn.process.commit.run(
        running_turns.turn_append,
        conversation=turn.conversation,
        parent=turn.tail,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STOPPED,
        error=note,
        release_owner="" if turn.lost else turn.process.process_id,
    )
    turn.phase = "done"
    turn.leased = False
    cid = turn.conversation_id
    await broadcast.publish(cid, outbound.message_created(cid, message))
    await broadcast.publish(cid, outbound.message_completed(cid, message))


finish_reply = streaming.finish_reply
