"""Running a reply: stream it, run the tools it calls, answer again, save everything.

A reply runs in its own asyncio task, registered in RUNNING, so it outlives the
socket that asked for it: closing a tab neither stops nor loses it. Frames go to
the conversation's channel-layer group, where every open socket listens.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from channels.db import database_sync_to_async as db
from django.conf import settings

from .. import services
from ..llm import Finish, LLMError, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta, Usage
from ..llm.sse import ToolCallAccumulator
from ..models import Conversation, Message
from ..provider import upstream
from ..rendering import render_markdown
from ..tools import registry as tools
from . import assembly, outbound, titles
from .broadcast import publish

logger = logging.getLogger(__name__)

FRAME_INTERVAL = 0.03  # At most one delta frame per message per 30 ms.
SAVE_INTERVAL = 1.0  # Partial text reaches the database about once a second.
MIN_RENDER_INTERVAL = 0.1  # Markdown is re-rendered mid-stream at most this often.


class Busy(Exception):
    """A reply is already running in this conversation."""


@dataclass(eq=False)
class Generation:
    """The turn running in one conversation; lives in RUNNING until it ends."""

    conversation_id: int
    user_id: int
    message_id: int | None = None  # The assistant message streaming now.
    content: str = ""
    reasoning: str = ""
    sent_content: int = 0  # How much of `content` frames have carried.
    sent_reasoning: int = 0
    seq: int = 0
    stop_requested: bool = False
    task: asyncio.Task | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    next_render: float = 0.0
    tail: Message | None = None  # The turn's latest saved message.

    def begin(self, message_id: int) -> None:
        """Start streaming into a new assistant message."""
        self.message_id = message_id
        self.content = self.reasoning = ""
        self.sent_content = self.sent_reasoning = self.seq = 0
        self.next_render = 0.0


RUNNING: dict[int, Generation] = {}


def reserve(conversation_id: int, user_id: int) -> Generation:
    """Claim a conversation for one turn, or raise Busy."""
    # No await between the check and the claim: one turn per conversation.
    if conversation_id in RUNNING:
        raise Busy
    RUNNING[conversation_id] = gen = Generation(conversation_id, user_id)
    return gen


def release(conversation_id: int) -> None:
    """Give up a claim made by `reserve` when the turn never started."""
    RUNNING.pop(conversation_id, None)


def live(conversation_id: int) -> Generation | None:
    """The turn running in a conversation in this process, if any."""
    return RUNNING.get(conversation_id)


def is_running(conversation_id: int) -> bool:
    """Whether a turn is running in a conversation."""
    return conversation_id in RUNNING


async def start(
    conversation: Conversation, *, parent: Message, options: assembly.TurnOptions
) -> None:
    """Save the reply's placeholder, announce it and run the turn in its own task."""
    gen = RUNNING[conversation.pk]
    try:
        plan = await db(assembly.plan_reply)(
            conversation=conversation, parent=parent, options=options
        )
    except BaseException:
        release(conversation.pk)
        raise
    gen.begin(plan.reply.pk)
    await publish(conversation.pk, outbound.message_created(conversation.pk, plan.reply))
    first_turn = parent.role == Message.Role.USER and parent.parent_id is None
    gen.task = asyncio.create_task(
        _run(gen, conversation, plan, options, first_turn=first_turn),
        name=f"turn-{plan.reply.pk}",
    )
    if gen.stop_requested:
        gen.task.cancel()


async def stop(conversation_id: int) -> None:
    """Stop the turn running in a conversation, if any; text so far is kept."""
    gen = RUNNING.get(conversation_id)
    if gen is None or gen.stop_requested:
        return
    gen.stop_requested = True
    if gen.task:
        gen.task.cancel()


async def stop_and_wait(conversation_id: int) -> None:
    """Stop the turn running in a conversation, if any, and wait until it has ended."""
    gen = RUNNING.get(conversation_id)
    if gen is None or gen.task is None:
        return
    await stop(conversation_id)
    await asyncio.gather(gen.task, return_exceptions=True)


@dataclass
class Outcome:
    """How one streamed reply ended."""

    message: Message
    tool_calls: list[ToolCall]


async def _run(
    gen: Generation,
    conversation: Conversation,
    plan: assembly.ReplyPlan,
    options,
    *,
    first_turn: bool = False,
) -> None:
    """The turn: stream a reply; while it calls tools, run them and stream the next."""
    phase = "reply"
    first_turn = first_turn and conversation.title_source == Conversation.TitleSource.FIRST_MESSAGE
    try:
        rounds = 0
        while True:
            outcome = await _stream_reply(gen, plan)
            if outcome.message.status != Message.Status.COMPLETE or not outcome.tool_calls:
                if first_turn and outcome.message.status == Message.Status.COMPLETE:
                    titles.start_title(gen, conversation, plan, outcome.message)
                return
            phase, rounds = "tools", rounds + 1
            parent = await _run_tools(gen, conversation, outcome, offered=plan.tools)
            if rounds >= settings.CHAT_MAX_TOOL_ROUNDS:
                note = f"Stopped after {rounds} rounds of tool calls without a final answer."
                await _final_note(gen, conversation, parent, note)
                return
            plan = await db(assembly.plan_reply)(
                conversation=conversation, parent=parent, options=options
            )
            gen.begin(plan.reply.pk)
            phase = "reply"
            await publish(
                gen.conversation_id, outbound.message_created(gen.conversation_id, plan.reply)
            )
    except asyncio.CancelledError:
        # Stopped (or shut down) between steps: leave nothing streaming, and say why.
        if gen.message_id is not None:
            outcome = {
                "status": Message.Status.STOPPED
                if gen.stop_requested
                else Message.Status.INTERRUPTED
            }
            await _finish(gen, gen.message_id, outcome, Usage(), [])
        elif phase == "tools":
            await _final_note(gen, conversation, gen.tail, "Stopped while tools were running.")
    finally:
        RUNNING.pop(gen.conversation_id, None)


async def _stream_reply(gen: Generation, plan: assembly.ReplyPlan) -> Outcome:
    """Stream one assistant message to its end and save it; never raises for upstream trouble."""
    reply = plan.reply
    loop = asyncio.get_running_loop()
    outcome: dict = {"status": Message.Status.COMPLETE}
    usage = Usage()
    calls = ToolCallAccumulator()
    if plan.error:
        outcome |= {"status": Message.Status.ERROR, "error": plan.error, "error_detail": plan.error}
        return await _finish(gen, reply.pk, outcome, usage, [])
    pump = asyncio.create_task(_pump(gen))
    started = last_save = loop.time()
    first_token = None
    try:
        async for event in upstream.get_client().stream(plan.request):
            if first_token is None and isinstance(
                event, TextDelta | ReasoningDelta | ToolCallDelta
            ):
                first_token = loop.time()
            if isinstance(event, TextDelta):
                gen.content += event.text
            elif isinstance(event, ReasoningDelta):
                gen.reasoning += event.text
            elif isinstance(event, ToolCallDelta):
                calls.add(event)
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, Finish):
                outcome["finish_reason"] = event.reason or ""
            gen.changed.set()
            if loop.time() - last_save >= SAVE_INTERVAL:
                last_save = loop.time()
                await db(services.message_save_progress)(
                    message_id=reply.pk, content=gen.content, reasoning=gen.reasoning
                )
    except LLMError as exc:
        logger.warning("Reply %s failed upstream: %s", reply.pk, exc.detail)
        outcome |= {
            "status": Message.Status.ERROR,
            "error": exc.user_message,
            "error_detail": exc.detail,
        }
    except asyncio.CancelledError:
        outcome["status"] = (
            Message.Status.STOPPED if gen.stop_requested else Message.Status.INTERRUPTED
        )
    except Exception as exc:
        logger.exception("Reply %s failed", reply.pk)
        outcome |= {
            "status": Message.Status.ERROR,
            "error": "Something went wrong on the server while writing this reply.",
            "error_detail": f"{type(exc).__name__}: {exc}",
        }
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    await _send_delta(gen, final=True)
    outcome["duration_ms"] = round((loop.time() - started) * 1000)
    if first_token is not None:
        outcome["first_token_ms"] = round((first_token - started) * 1000)
    tool_calls = []
    if plan.request and plan.request.tool_choice != "none":
        tool_calls = [call for call in calls.calls() if call.name]
    return await _finish(gen, reply.pk, outcome, usage, tool_calls)


async def _finish(
    gen: Generation, message_id: int, outcome: dict, usage: Usage, tool_calls: list[ToolCall]
) -> Outcome:
    """Save how a reply ended and tell every socket."""
    saved = await db(services.message_finish)(
        message_id=message_id,
        content=gen.content,
        reasoning=gen.reasoning,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        usage_estimated=usage.estimated,
        tool_calls=tool_calls if outcome["status"] == Message.Status.COMPLETE else None,
        **outcome,
    )
    gen.message_id = None
    await publish(gen.conversation_id, outbound.message_completed(gen.conversation_id, saved))
    if saved.status == Message.Status.ERROR:
        await publish(
            gen.conversation_id,
            outbound.error(
                "upstream_error",
                saved.error,
                conversation=gen.conversation_id,
                message_id=saved.pk,
            ),
        )
    return Outcome(saved, tool_calls if saved.tool_calls else [])


async def _run_tools(
    gen: Generation, conversation: Conversation, outcome: Outcome, *, offered: list[str]
) -> Message:
    """Run each call in turn and save its result under the last; return the last result.

    Only the tools the request offered may run: any other call's result is an error.
    """
    parent = gen.tail = outcome.message
    context = tools.ToolContext(user_id=gen.user_id, conversation_id=gen.conversation_id)
    for call in outcome.tool_calls:
        await publish(
            gen.conversation_id,
            outbound.tool_call(gen.conversation_id, outcome.message.pk, call),
        )
    for call in outcome.tool_calls:
        result = await tools.run(
            call.name,
            call.arguments,
            context=context,
            timeout=settings.CHAT_TOOL_TIMEOUT,
            offered=offered,
        )
        parent = gen.tail = await db(services.message_append)(
            conversation=conversation,
            role=Message.Role.TOOL,
            content=result,
            parent=parent,
            tool_call_id=call.id,
            tool_name=call.name,
        )
        await publish(gen.conversation_id, outbound.tool_result(gen.conversation_id, parent))
    return parent


async def _final_note(
    gen: Generation, conversation: Conversation, parent: Message, note: str
) -> None:
    """End a turn that has no reply to show with a stopped assistant message saying why."""
    message = await db(services.message_append)(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        parent=parent,
        status=Message.Status.STOPPED,
        error=note,
    )
    await publish(gen.conversation_id, outbound.message_created(gen.conversation_id, message))
    await publish(gen.conversation_id, outbound.message_completed(gen.conversation_id, message))


async def _pump(gen: Generation) -> None:
    """Coalesce deltas: wait for new text, send it, pause, repeat."""
    while True:
        await gen.changed.wait()
        gen.changed.clear()
        await _send_delta(gen)
        await asyncio.sleep(FRAME_INTERVAL)


async def _send_delta(gen: Generation, *, final: bool = False) -> None:
    text = gen.content[gen.sent_content :]
    reasoning = gen.reasoning[gen.sent_reasoning :]
    if not text and not reasoning:
        return
    gen.seq += 1
    gen.sent_content = len(gen.content)
    gen.sent_reasoning = len(gen.reasoning)
    html = None
    now = asyncio.get_running_loop().time()
    if text and not final and now >= gen.next_render:
        # Rendering costs grow with the reply: back off so it stays a small share.
        html = render_markdown(gen.content[: gen.sent_content])
        took = asyncio.get_running_loop().time() - now
        gen.next_render = now + max(MIN_RENDER_INTERVAL, 4 * took)
    frame = outbound.message_delta(
        gen.conversation_id,
        gen.message_id,
        seq=gen.seq,
        content=text,
        reasoning=reasoning,
        html=html,
    )
    await publish(gen.conversation_id, frame)


def recover_interrupted() -> None:
    """Mark replies a previous server process left streaming as interrupted."""
    count = services.messages_mark_interrupted()
    if count:
        logger.info("Marked %d unfinished replies as interrupted", count)
