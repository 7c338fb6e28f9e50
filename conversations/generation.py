"""One turn of a conversation: history, upstream stream, saved reply.

A reply runs in its own asyncio task, registered in RUNNING, so it outlives the
socket that asked for it: closing a tab neither stops nor loses it. Frames go
to the conversation's channel-layer group, where every open socket listens.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from . import frames, selectors, services, upstream
from .llm import ChatRequest, Finish, LLMError, ReasoningDelta, TextDelta, Usage
from .models import Conversation, Message, Persona
from .rendering import render_markdown

logger = logging.getLogger(__name__)

FRAME_INTERVAL = 0.03  # At most one delta frame per message per 30 ms.
SAVE_INTERVAL = 1.0  # Partial text reaches the database about once a second.
MIN_RENDER_INTERVAL = 0.1  # Markdown is re-rendered mid-stream at most this often.


class TurnRefused(Exception):
    """A request the protocol answers with an `error` frame of this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SendRequest:
    """A user's message, as `chat.send` carries it."""

    client_id: str
    conversation: int | None
    content: str
    persona: int | None = None
    model: str | None = None


@dataclass
class Turn:
    """A user message accepted for a conversation."""

    conversation: Conversation
    user_message: Message
    created: bool = False  # The conversation is new.
    duplicate: bool = False  # This client_id was seen before; nothing new was made.


@dataclass(eq=False)
class Generation:
    """A reply being streamed; lives in RUNNING until it ends."""

    conversation_id: int
    message_id: int | None = None
    content: str = ""
    reasoning: str = ""
    sent_content: int = 0  # How much of `content` frames have carried.
    sent_reasoning: int = 0
    seq: int = 0
    stop_requested: bool = False
    task: asyncio.Task | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    next_render: float = 0.0


RUNNING: dict[int, Generation] = {}


def group_name(conversation_id: int) -> str:
    """The channel-layer group of one conversation's sockets."""
    return f"conversation.{conversation_id}"


def user_group_name(user_id: int) -> str:
    """The channel-layer group of all of one user's sockets."""
    return f"user.{user_id}"


async def publish(conversation_id: int, frame: dict) -> None:
    """Send a frame to every socket watching a conversation."""
    await get_channel_layer().group_send(
        group_name(conversation_id), {"type": "chat.event", "frame": frame}
    )


async def publish_to_user(user_id: int, frame: dict) -> None:
    """Send a frame to every socket of one user."""
    await get_channel_layer().group_send(
        user_group_name(user_id), {"type": "chat.event", "frame": frame}
    )


def _reserve(conversation_id: int) -> Generation:
    # No await between the check and the claim: one turn per conversation.
    if conversation_id in RUNNING:
        raise TurnRefused("busy", "A reply is still being written in this conversation.")
    RUNNING[conversation_id] = gen = Generation(conversation_id)
    return gen


async def accept_message(*, user: AbstractBaseUser, request: SendRequest) -> Turn:
    """Validate and save a user's message before anything goes upstream."""
    if len(request.content) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise TurnRefused(
            "too_long",
            f"The message is {len(request.content):,} characters; "
            f"the limit is {settings.CHAT_MAX_MESSAGE_CHARS:,}.",
        )
    if not request.content.strip():
        raise TurnRefused("bad_request", "The message is empty.")
    conversation, persona, existing = await db(_resolve)(user=user, request=request)
    if existing:
        return Turn(existing.conversation, existing, created=conversation is None, duplicate=True)
    if conversation is not None:
        _reserve(conversation.pk)  # Before saving: a busy conversation takes nothing.
    try:
        turn = await db(_save_message)(
            user=user, request=request, conversation=conversation, persona=persona
        )
    except BaseException:
        if conversation is not None:
            RUNNING.pop(conversation.pk, None)
        raise
    if turn.duplicate:
        RUNNING.pop(turn.conversation.pk, None)
    elif turn.created:
        _reserve(turn.conversation.pk)
    return turn


def _resolve(
    *, user: AbstractBaseUser, request: SendRequest
) -> tuple[Conversation | None, Persona | None, Message | None]:
    """The conversation and persona a send names, and its message if already saved."""
    persona = None
    if request.persona is not None:
        persona = selectors.persona_get(user=user, persona_id=request.persona)
        if persona is None:
            raise TurnRefused("not_found", "That persona does not exist.")
    if request.conversation is None:
        existing = selectors.message_get_root_by_client_id(user=user, client_id=request.client_id)
        return None, persona, existing
    conversation = selectors.conversation_get(user=user, conversation_id=request.conversation)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    existing = selectors.message_get_by_client_id(
        conversation=conversation, client_id=request.client_id
    )
    if existing:
        existing.conversation = conversation
    return conversation, persona, existing


def _save_message(
    *,
    user: AbstractBaseUser,
    request: SendRequest,
    conversation: Conversation | None,
    persona: Persona | None,
) -> Turn:
    created = conversation is None
    try:
        with transaction.atomic():
            if created:
                model = request.model or (persona.model if persona else "")
                conversation = services.conversation_create(
                    owner=user,
                    persona=persona,
                    model=model or settings.LLM_DEFAULT_MODEL,
                    title=services.title_from_text(request.content),
                )
            else:
                services.conversation_set_options(
                    conversation=conversation, persona=persona, model=request.model
                )
            message = services.message_append(
                conversation=conversation,
                role=Message.Role.USER,
                content=request.content,
                parent=conversation.current_leaf,
                client_id=request.client_id,
            )
    except IntegrityError:
        if created:
            raise
        # The same client_id raced in from another socket: answer with the saved one.
        existing = selectors.message_get_by_client_id(
            conversation=conversation, client_id=request.client_id
        )
        return Turn(conversation, existing, duplicate=True)
    return Turn(conversation, message, created=created)


async def start_reply(turn: Turn) -> None:
    """Announce the user's message and start the assistant's reply to it."""
    await publish(
        turn.conversation.pk, frames.message_created(turn.conversation.pk, turn.user_message)
    )
    await _start(turn.conversation, parent=turn.user_message)


async def regenerate(*, user: AbstractBaseUser, conversation_id: int, message_id: int) -> None:
    """Write a new reply beside an assistant message (a retry after a failure, say)."""
    conversation, parent = await db(_regeneration_target)(
        user=user, conversation_id=conversation_id, message_id=message_id
    )
    _reserve(conversation.pk)
    await _start(conversation, parent=parent)


def _regeneration_target(
    *, user: AbstractBaseUser, conversation_id: int, message_id: int
) -> tuple[Conversation, Message]:
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    message = (
        Message.objects.filter(
            conversation=conversation, pk=message_id, role=Message.Role.ASSISTANT
        )
        .select_related("parent")
        .first()
    )
    if message is None or message.parent is None:
        raise TurnRefused("not_found", "That reply does not exist.")
    return conversation, message.parent


async def _start(conversation: Conversation, *, parent: Message) -> None:
    gen = RUNNING[conversation.pk]
    try:
        request, reply = await db(prepare_reply)(conversation=conversation, parent=parent)
    except BaseException:
        RUNNING.pop(conversation.pk, None)
        raise
    gen.message_id = reply.pk
    await publish(conversation.pk, frames.message_created(conversation.pk, reply))
    gen.task = asyncio.create_task(_run(gen, request, reply), name=f"reply-{reply.pk}")
    if gen.stop_requested:
        gen.task.cancel()


def prepare_reply(*, conversation: Conversation, parent: Message) -> tuple[ChatRequest, Message]:
    """Assemble the upstream request for a reply to `parent` and save its placeholder.

    The query count is fixed: the branch is read in one recursive query.
    """
    branch = selectors.message_branch(conversation=conversation, leaf_id=parent.pk)
    persona = conversation.persona
    model = conversation.model or (persona.model if persona else "") or settings.LLM_DEFAULT_MODEL
    request = ChatRequest(
        model=model,
        messages=selectors.upstream_messages(persona=persona, branch=branch),
        temperature=persona.temperature if persona else None,
        top_p=persona.top_p if persona else None,
        max_tokens=persona.max_tokens if persona else None,
    )
    reply = services.message_append(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        parent=parent,
        status=Message.Status.STREAMING,
        model=model,
    )
    return request, reply


async def _run(gen: Generation, request: ChatRequest, reply: Message) -> None:
    loop = asyncio.get_running_loop()
    pump = asyncio.create_task(_pump(gen))
    outcome: dict = {"status": Message.Status.COMPLETE}
    usage = Usage()
    last_save = loop.time()
    try:
        async for event in upstream.get_client().stream(request):
            if isinstance(event, TextDelta):
                gen.content += event.text
            elif isinstance(event, ReasoningDelta):
                gen.reasoning += event.text
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
    try:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        await _send_delta(gen, final=True)
        saved = await db(services.message_finish)(
            message_id=reply.pk,
            content=gen.content,
            reasoning=gen.reasoning,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            usage_estimated=usage.estimated,
            **outcome,
        )
        await publish(gen.conversation_id, frames.message_completed(gen.conversation_id, saved))
        if saved.status == Message.Status.ERROR:
            await publish(
                gen.conversation_id,
                frames.error(
                    "upstream_error",
                    saved.error,
                    conversation=gen.conversation_id,
                    message_id=saved.pk,
                ),
            )
    finally:
        RUNNING.pop(gen.conversation_id, None)


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
    frame = {
        "type": "message.delta",
        "conversation": gen.conversation_id,
        "message": gen.message_id,
        "seq": gen.seq,
        "content": text,
    }
    if reasoning:
        frame["reasoning"] = reasoning
    now = asyncio.get_running_loop().time()
    if text and not final and now >= gen.next_render:
        # Rendering costs grow with the reply: back off so it stays a small share.
        frame["html"] = render_markdown(gen.content[: gen.sent_content])
        took = asyncio.get_running_loop().time() - now
        gen.next_render = now + max(MIN_RENDER_INTERVAL, 4 * took)
    await publish(gen.conversation_id, frame)


async def stop(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Stop the reply streaming in a conversation; its text so far is kept."""
    conversation = await db(selectors.conversation_get)(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    gen = RUNNING.get(conversation.pk)
    if gen is None:
        return
    gen.stop_requested = True
    if gen.task:
        gen.task.cancel()


async def conversation_state(*, user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame, with a streaming reply's text so far."""
    conversation = await db(selectors.conversation_get)(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    branch = await db(selectors.message_branch)(conversation=conversation)
    gen = RUNNING.get(conversation.pk)
    messages = []
    for message in branch:
        if gen and message.pk == gen.message_id:
            message.reasoning = gen.reasoning[: gen.sent_reasoning]
            data = frames.message_data(message, content=gen.content[: gen.sent_content])
            data["seq"] = gen.seq
        else:
            data = frames.message_data(message)
        messages.append(data)
    return frames.conversation_state(conversation, messages)


def recover_interrupted() -> None:
    """Mark replies a previous server process left streaming as interrupted."""
    count = services.messages_mark_interrupted()
    if count:
        logger.info("Marked %d unfinished replies as interrupted", count)


async def check_owner(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Raise not_found unless the conversation exists and is the user's."""
    exists = await Conversation.objects.filter(owner=user, pk=conversation_id).aexists()
    if not exists:
        raise TurnRefused("not_found", "That conversation does not exist.")
