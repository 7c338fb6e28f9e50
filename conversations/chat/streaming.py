"""One reply, streamed: read the provider's events, pace them into frames, save the end.

Frames carry only what is new: the text since the last frame and, when blocks of
Markdown have finished, their HTML (rendered once; see blocks.py). A reply of any
length costs each socket about its text plus its HTML, never more.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

from ..limits import turn_limits
from ..llm import (
    Finish,
    LLMError,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..llm.sse import ToolCallAccumulator
from ..models import Message
from ..provider import upstream
from ..rendering import markdown
from . import broadcast, outbound
from .assembly import ReplyPlan

if TYPE_CHECKING:
    from .turn_state import Turn
from ..turns import running as running_turns

logger = logging.getLogger(__name__)

FRAME_INTERVAL = 0.05  # At most one delta frame per reply per 50 ms: smooth, and few frames.
# After this long without a word from the provider (before the first token, or in the middle
# of a reply), watchers are told the reply waits for it (`message.waiting`): 3 s, or a tenth
# of the read timeout when that is shorter.
WAIT_NOTICE = 3.0


def wait_notice() -> float:
    """Seconds of silence from the provider before watchers are told the reply waits."""
    return min(WAIT_NOTICE, settings.LLM_READ_TIMEOUT / 10)


FINISH_ATTEMPTS = 6  # A reply's last save is retried through a short database outage.
SERVER_ERROR = "Something went wrong on the server while writing this reply."


@dataclass
class Outcome:
    """How one streamed reply ended: the saved message (None if it was deleted meanwhile)."""

    message: Message | None
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass
class _Reading:
    started: float
    usage: Usage = field(default_factory=Usage)
    calls: ToolCallAccumulator = field(default_factory=ToolCallAccumulator)
    finish_reason: str = ""
    first_token: float | None = None
    first_reasoning: float | None = None
    first_text: float | None = None
    cut_off: bool = False

    def reasoning_ms(self, ended: float) -> int | None:
        """How long the model reasoned: from its first reasoning to its first answer text."""
        if self.first_reasoning is None:
            return None
        return round(((self.first_text or ended) - self.first_reasoning) * 1000)


async def stream_reply(turn: "Turn", plan: ReplyPlan) -> Outcome:
    """Stream the turn's current reply to its end and save it; never raises for upstream trouble."""
    if plan.error or plan.request is None:
        error = plan.error or "Nothing could be sent."
        return await finish_reply(
            turn, {"status": Message.Status.ERROR, "error": error, "error_detail": error}
        )
    if turn.stop_requested:
        return await finish_reply(turn, {"status": Message.Status.STOPPED})
    loop = asyncio.get_running_loop()
    reading = _Reading(started=loop.time())
    turn.heard, turn.waiting = reading.started, None
    task = turn.reading = loop.create_task(_read(turn, plan, reading))
    read_done = asyncio.Event()
    pump = loop.create_task(_pump(turn, read_done))
    try:
        await asyncio.wait({task})
        turn.sent.set()  # The read is over, sent or not (a refused connection, say).
        # Let the pump finish the frame it is publishing: cancelling it mid-publish would
        # lose a delta whose text it had already taken.
        read_done.set()
        turn.changed.set()
        await asyncio.wait({pump}, timeout=5)
    finally:
        task.cancel()  # These two only matter when this task itself is being cancelled.
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        turn.reading = None
    outcome: dict = {"status": Message.Status.COMPLETE, "finish_reason": reading.finish_reason}
    if task.cancelled():
        outcome["status"] = Message.Status.STOPPED
    elif isinstance(error := task.exception(), LLMError):
        logger.warning("Reply %s failed upstream: %s", turn.message_id, error.detail)
        outcome |= {
            "status": Message.Status.ERROR,
            "error": error.user_message,
            "error_detail": error.detail,
        }
    elif error is not None:
        logger.error("Reply %s failed: %s", turn.message_id, type(error).__name__, exc_info=error)
        outcome |= {
            "status": Message.Status.ERROR,
            "error": SERVER_ERROR,
            "error_detail": f"{type(error).__name__}: {error}",
        }
    if reading.cut_off:
        outcome["finish_reason"] = "length"
    await send_delta(turn, final=True)
    ended = loop.time()
    outcome["duration_ms"] = round((ended - reading.started) * 1000)
    outcome["reasoning_ms"] = reading.reasoning_ms(ended)
    if reading.first_token is not None:
        outcome["first_token_ms"] = round((reading.first_token - reading.started) * 1000)
    calls = []
    if plan.request.tool_choice != "none" and not plan.text_only:
        calls = [call for call in reading.calls.calls() if call.name]
    _count_tokens(turn, plan, reading.usage)
    return await finish_reply(turn, outcome, usage=reading.usage, tool_calls=calls)


def _count_tokens(turn: "Turn", plan: ReplyPlan, usage: Usage) -> None:
    """Count what the request cost against the user's daily tokens: the provider's figures,
    else our estimates (a reply stopped early reports none, and its prompt was still read)."""
    prompt = usage.prompt_tokens
    if prompt is None:
        prompt = plan.record.get("estimated_prompt_tokens") or 0
    completion = usage.completion_tokens
    if completion is None:
        completion = -(-(len(turn.content) + len(turn.reasoning)) // 4)  # About 4 chars a token.
    turn_limits.record_tokens(user_id=turn.user_id, tokens=prompt + completion)


async def _read(turn: "Turn", plan: ReplyPlan, reading: _Reading) -> None:
    loop = asyncio.get_running_loop()
    limit = settings.CHAT_MAX_REPLY_CHARS

    def sent() -> None:
        turn.heard = loop.time()  # Silence is counted from the moment the request left.
        turn.sent.set()

    async for event in upstream.get_client().stream(plan.request, on_sent=sent):
        turn.heard = loop.time()
        if isinstance(event, Retrying):
            turn.wait(state="retrying", seconds=event.after, reason=event.reason)
            turn.changed.set()
            continue
        if reading.first_token is None and isinstance(
            event, TextDelta | ReasoningDelta | ToolCallDelta
        ):
            reading.first_token = loop.time()
        if isinstance(event, TextDelta):
            if reading.first_text is None and event.text:
                reading.first_text = loop.time()
            turn.content.append(event.text)
        elif isinstance(event, ReasoningDelta):
            if reading.first_reasoning is None and event.text:
                reading.first_reasoning = loop.time()
            turn.reasoning.append(event.text)
        elif isinstance(event, ToolCallDelta):
            reading.calls.add(event)
        elif isinstance(event, Usage):
            reading.usage = event
        elif isinstance(event, Finish):
            reading.finish_reason = event.reason or ""
        turn.changed.set()
        if len(turn.content) + len(turn.reasoning) > limit:
            reading.cut_off = True  # A reply without end is cut, like one at max_tokens.
            return


async def _pump(turn: "Turn", read_done: asyncio.Event) -> None:
    """Coalesce deltas: wait for new text, send it, pause, repeat until the reading ends.

    While the provider is silent (or asked to be tried again later) the watchers are told
    so, once per wait: the page shows it and counts the seconds itself.
    """
    await turn.announced.wait()  # The reply's message.created goes out before its deltas.
    while not read_done.is_set():
        try:
            async with asyncio.timeout(wait_notice()):
                await turn.changed.wait()
        except TimeoutError:
            await send_waiting(turn)
            continue
        turn.changed.clear()
        await send_waiting(turn)
        await send_delta(turn)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(read_done.wait(), FRAME_INTERVAL)


async def send_waiting(turn: "Turn") -> None:
    """A `message.waiting` frame when the reply's wait for its provider is new: a retry the
    client scheduled, or silence past WAIT_NOTICE (also once a retry's wait is over)."""
    now = asyncio.get_running_loop().time()
    waiting = turn.waiting
    if waiting is None or (waiting.state == "retrying" and now >= waiting.until):
        if now - turn.heard < wait_notice() or turn.message_id is None:
            return
        turn.wait(state="waiting", seconds=now - turn.heard)
        waiting = turn.waiting
    if waiting is None or waiting.sent:
        return
    waiting.sent = True
    frame = outbound.message_waiting(turn.conversation_id, turn.message_id, **waiting.shown(now))
    await broadcast.publish(turn.conversation_id, frame)


async def send_delta(turn: "Turn", *, final: bool = False) -> None:
    """One `message.delta` with the text since the last, and any blocks it finished."""
    text = turn.content.take_unsent()
    reasoning = turn.reasoning.take_unsent()
    if not text and not reasoning:
        return
    # Everything a snapshot reads changes here, before the await: they always agree.
    turn.seq += 1
    turn.sent_content += len(text)
    turn.sent_reasoning += len(reasoning)
    blocks = None
    if turn.blocks is not None:
        turn.blocks.feed(text)
        if not final:
            blocks = turn.blocks.split()
            if blocks is not None:
                turn.blocks_html.append(blocks)
    turn.waiting = None  # The provider is heard from again: watchers clear the wait on this.
    frame = outbound.message_delta(
        turn.conversation_id,
        turn.message_id,
        seq=turn.seq,
        content=text,
        reasoning=reasoning,
        blocks=blocks,
        stable=turn.blocks.stable if blocks is not None else None,
    )
    await broadcast.publish(turn.conversation_id, frame)
    turn.first_frame.set()


async def finish_reply(
    turn: "Turn",
    outcome: dict,
    *,
    usage: Usage | None = None,
    tool_calls: list[ToolCall] | None = None,
) -> Outcome:
    """Save how the current reply ended and tell every socket; the turn streams nothing now.

    A reply that calls no tools ends its turn: the lease goes with the same save.
    """
    usage = usage or Usage()
    tool_calls = tool_calls if outcome["status"] == Message.Status.COMPLETE else []
    last = not tool_calls or turn.stop_requested
    fields = {
        "content": turn.content.text(),
        "reasoning": turn.reasoning.text(),
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "usage_estimated": usage.estimated,
        "tool_calls": [call.to_stored() for call in tool_calls],
        "request": None if turn.record_saved else turn.record,
        "release_owner": turn.process.process_id
        if last and not turn.lost and turn.releases_on_finish
        else "",
        **outcome,
    }
    if turn.resumed is not None:
        _add_earlier(fields, turn.resumed)
        turn.resumed = None
    turn.sent.set()  # Nothing more goes upstream for this reply: announcing need not wait.
    await turn.announced.wait()  # Watchers hear of the reply before they hear of its end.
    message_id, turn.message_id = turn.message_id, None
    blocks = turn.blocks
    stable = blocks.stable if blocks else 0
    saved, stored = await _save_end(turn, message_id, fields)
    if stored and fields["release_owner"]:
        turn.leased = False  # Released with the save.
    if saved is None:
        return Outcome(None)  # Deleted while it streamed.
    if turn.compare is not None:
        saved.compare_info = turn.compare
    cid = turn.conversation_id

    # The last block renders under the reply's own budget, as its other blocks did (a
    # reply that finished none renders whole, and is cached for its next opening), on a
    # rendering thread: a reply that is one long block would hold up the event loop.
    def completed() -> dict:
        tail = blocks.render_rest(saved.content) if blocks and stable else None
        return outbound.message_completed(cid, saved, html_from=stable, html=tail)

    await broadcast.publish(cid, await markdown.rendered(completed))
    if saved.status == Message.Status.ERROR:
        await broadcast.publish(
            cid,
            outbound.error("upstream_error", saved.error, conversation=cid, message_id=saved.pk),
        )
    return Outcome(saved, tool_calls if saved.tool_calls else [])


def _add_earlier(fields: dict, earlier: Message) -> None:
    """A continued reply's numbers cover all of it: its requests' times and tokens added up.

    The time to first token stays the first request's. The tokens the review counts add
    are this request's alone (the reply itself was counted when it first ended).
    """
    fields["added_tokens"] = (fields["prompt_tokens"], fields["completion_tokens"])
    for name in ("duration_ms", "reasoning_ms", "prompt_tokens", "completion_tokens"):
        values = [v for v in (getattr(earlier, name), fields.get(name)) if v is not None]
        fields[name] = sum(values) if values else None
    if earlier.first_token_ms is not None:
        fields["first_token_ms"] = earlier.first_token_ms
    fields["usage_estimated"] = fields["usage_estimated"] or earlier.usage_estimated


async def _save_end(turn: "Turn", message_id: int, fields: dict) -> tuple[Message | None, bool]:
    """The reply's last save, retried through a short outage; watchers hear the end regardless.

    Returns the message (None if deleted meanwhile) and whether the save went through.
    """
    delay = 0.25
    for attempt in range(FINISH_ATTEMPTS):
        try:
            saved = await turn.process.commit.run(
                running_turns.reply_finish, message_id=message_id, **fields
            )
            return saved, True
        except Exception:
            logger.exception(
                "Saving the end of reply %s failed (attempt %d)", message_id, attempt + 1
            )
            await asyncio.sleep(delay)
            delay *= 2
    # Still unsaved: the lease will expire and the sweep marks it interrupted, keeping the
    # text of the last progress save. Watchers are told now, from memory.
    unsaved = Message(
        pk=message_id,
        conversation_id=turn.conversation_id,
        role=Message.Role.ASSISTANT,
        content=fields["content"],
        reasoning=fields["reasoning"],
        status=Message.Status.ERROR,
        error="This reply could not be saved.",
    )
    return unsaved, False
