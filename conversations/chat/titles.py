"""Automatic titles: after a conversation's first reply, a short second request names it.

It runs in the background, never delays the reply, and never overwrites a name the
user gave.
"""

import asyncio
import contextlib
import logging
from dataclasses import replace

from channels.db import database_sync_to_async as db
from django.conf import settings

from .. import selectors, services
from ..llm import ChatMessage, LLMError, TextDelta
from ..models import Conversation, Message
from ..provider import upstream
from . import broadcast, outbound

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the "
    "exchange below. Answer with the title only: no quotes, no final period."
)
TITLE_ANSWER_CHARS = 400  # Of the answer, read at most about this much.
TITLE_TASKS: set[asyncio.Task] = set()  # Strong references: the loop keeps only weak ones.


def start_title(gen, conversation: Conversation, plan, reply: Message) -> None:
    """Name the conversation in the background, after its first reply; never delays it."""
    if not settings.CHAT_AUTO_TITLES or not plan.request:
        return
    task = asyncio.create_task(_generate_title(gen.user_id, conversation.pk, plan.request, reply))
    TITLE_TASKS.add(task)
    task.add_done_callback(TITLE_TASKS.discard)


async def _generate_title(user_id: int, conversation_id: int, request, reply: Message) -> None:
    question = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    title_request = replace(
        request,
        messages=[
            ChatMessage("system", TITLE_PROMPT),
            ChatMessage("user", f"{question[:2000]}\n\n---\n\n{reply.content[:2000]}"),
        ],
        tools=[],
        tool_choice=None,
        max_tokens=24,
        temperature=0.2,
        top_p=None,
    )
    text = ""
    try:
        # A title is a line: a provider that goes on past max_tokens is not read to its end.
        async with contextlib.aclosing(upstream.get_client().stream(title_request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    text += event.text
                    if len(text) >= TITLE_ANSWER_CHARS:
                        break
    except LLMError as exc:
        logger.info("No title for conversation %s: %s", conversation_id, exc.detail)
        return
    title = clean_title(text)
    if title and await db(services.conversation_set_title_generated)(
        conversation_id=conversation_id, title=title
    ):
        frame = await db(_updated_frame)(conversation_id=conversation_id)
        if frame is not None:
            await broadcast.publish_to_user(user_id, frame)


def _updated_frame(*, conversation_id: int) -> dict | None:
    """The renamed conversation's frame, built off the event loop: it names the model, which
    may be its persona's, a row read on first use."""
    conversation = selectors.conversation_get_by_id(conversation_id=conversation_id)
    return None if conversation is None else outbound.conversation_updated(conversation)


def clean_title(text: str) -> str:
    """A model's title answer made fit for the sidebar."""
    line = next(
        (line for line in text[:TITLE_ANSWER_CHARS].strip().splitlines() if line.strip()), ""
    )
    line = line.strip().strip("\"'*#`").removeprefix("Title:").strip().rstrip(".").strip("\"'")
    return line[:80]
