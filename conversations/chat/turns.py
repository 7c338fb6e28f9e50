"""Taking a turn in: check the user's message, then hand it to `lifecycle`, which saves it
before anything goes upstream and runs the reply."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from .. import selectors
from ..errors import TurnRefused, not_found
from ..provider import availability
from ..turns import starts as turn_starts
from . import lifecycle

if TYPE_CHECKING:  # What the protocol parsed; the consumer hands it over.
    from .inbound import SendRequest


async def send(
    *,
    user: AbstractBaseUser,
    request: "SendRequest",
    watch: Callable[[int], Awaitable[None]] | None = None,
) -> turn_starts.AlreadySent | None:
    """Save a user's message and start the reply; a resent one returns what was saved.

    `watch(conversation_id)` runs before anything about the turn is published, so the
    socket that sent the message misses none of it.
    """
    if len(request.content) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise TurnRefused(
            "too_long",
            f"The message is {len(request.content):,} characters; "
            f"the limit is {settings.CHAT_MAX_MESSAGE_CHARS:,}.",
        )
    if not request.content.strip() and not request.attachments:
        raise TurnRefused("bad_request", "The message is empty.")
    models = await availability.current()
    if request.change.chosen_model:
        models.check_chosen(request.change.chosen_model)
    for entry in request.compare or ():
        if entry.model:
            models.check_chosen(entry.model)
    return await lifecycle.send(
        user=user, request=request, options=request.options, models=models, watch=watch
    )


async def regenerate(
    *, user: AbstractBaseUser, conversation_id: int, message_id: int, options
) -> None:
    """Write a new reply beside an assistant message (a retry after a failure, say)."""
    await lifecycle.regenerate(
        user=user,
        conversation_id=conversation_id,
        message_id=message_id,
        options=options,
        models=await availability.current(),
    )


async def continue_reply(*, user: AbstractBaseUser, conversation_id: int, message_id: int) -> None:
    """Write more of an assistant reply (one cut off at its length limit, say), in place."""
    await lifecycle.continue_reply(
        user=user,
        conversation_id=conversation_id,
        message_id=message_id,
        models=await availability.current(),
    )


async def stop(
    *, user: AbstractBaseUser, conversation_id: int, message_id: int | None = None
) -> None:
    """Stop the reply streaming in one of the user's conversations, wherever it runs (or,
    `message_id`, one reply of a compare)."""
    await check_owner(user=user, conversation_id=conversation_id)
    await lifecycle.stop(conversation_id, message_id)


async def check_owner(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Raise not_found unless the conversation exists and is the user's."""
    exists = await db(selectors.conversation_exists)(user=user, conversation_id=conversation_id)
    if not exists:
        raise not_found("conversation")


async def approve(
    *, user: AbstractBaseUser, conversation_id: int, call_id: str, approved: bool
) -> None:
    """The owner's answer to a tool call waiting in their conversation, wherever it runs."""
    await check_owner(user=user, conversation_id=conversation_id)
    await lifecycle.approve(conversation_id, call_id, approved=approved)
