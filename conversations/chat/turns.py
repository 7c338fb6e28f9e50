"""Taking a turn in: check and save the user's message, then hand the reply to `generation`."""

from dataclasses import dataclass

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from .. import selectors, services
from ..models import Conversation, Message, Persona
from . import broadcast, generation, outbound
from .assembly import TurnOptions
from .inbound import SendRequest


class TurnRefused(Exception):
    """A request the protocol answers with an `error` frame of this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Turn:
    """A user message accepted for a conversation."""

    conversation: Conversation
    user_message: Message
    created: bool = False  # The conversation is new.
    duplicate: bool = False  # This client_id was seen before; nothing new was made.


def _claim(conversation_id: int, user: AbstractBaseUser) -> None:
    try:
        generation.reserve(conversation_id, user.pk)
    except generation.Busy:
        raise TurnRefused("busy", "A reply is still being written in this conversation.") from None


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
    conversation, persona, edited, existing = await db(_resolve)(user=user, request=request)
    if existing:
        return Turn(existing.conversation, existing, created=conversation is None, duplicate=True)
    if conversation is not None:
        _claim(conversation.pk, user)  # Before saving: a busy conversation takes nothing.
    try:
        turn = await db(_save_message)(
            user=user, request=request, conversation=conversation, persona=persona, edited=edited
        )
    except BaseException:
        if conversation is not None:
            generation.release(conversation.pk)
        raise
    if turn.duplicate:
        generation.release(turn.conversation.pk)
    elif turn.created:
        _claim(turn.conversation.pk, user)
    return turn


def _resolve(
    *, user: AbstractBaseUser, request: SendRequest
) -> tuple[Conversation | None, Persona | None, Message | None, Message | None]:
    """The conversation and persona a send names, the message it edits, and itself if saved."""
    persona = None
    if request.persona is not None:
        persona = selectors.persona_get(user=user, persona_id=request.persona)
        if persona is None:
            raise TurnRefused("not_found", "That persona does not exist.")
    if request.conversation is None:
        existing = selectors.message_get_root_by_client_id(user=user, client_id=request.client_id)
        return None, persona, None, existing
    conversation = selectors.conversation_get(user=user, conversation_id=request.conversation)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    edited = None
    if request.edit is not None:
        edited = selectors.message_get(
            conversation=conversation, message_id=request.edit, role=Message.Role.USER
        )
        if edited is None:
            raise TurnRefused("not_found", "That message does not exist.")
    existing = selectors.message_get_by_client_id(
        conversation=conversation, client_id=request.client_id
    )
    if existing:
        existing.conversation = conversation
    return conversation, persona, edited, existing


def _save_message(
    *,
    user: AbstractBaseUser,
    request: SendRequest,
    conversation: Conversation | None,
    persona: Persona | None,
    edited: Message | None,
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
            # An edit is a new version beside the old message; a send continues the branch.
            parent = edited.parent if edited else conversation.current_leaf
            message = services.message_append(
                conversation=conversation,
                role=Message.Role.USER,
                content=request.content,
                parent=parent,
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


async def start_reply(turn: Turn, options: TurnOptions) -> None:
    """Announce the user's message and start the assistant's reply to it."""
    await broadcast.publish(
        turn.conversation.pk, outbound.message_created(turn.conversation.pk, turn.user_message)
    )
    await generation.start(turn.conversation, parent=turn.user_message, options=options)


async def regenerate(
    *, user: AbstractBaseUser, conversation_id: int, message_id: int, options: TurnOptions
) -> None:
    """Write a new reply beside an assistant message (a retry after a failure, say)."""
    conversation, parent = await db(_regeneration_target)(
        user=user, conversation_id=conversation_id, message_id=message_id
    )
    _claim(conversation.pk, user)
    await generation.start(conversation, parent=parent, options=options)


def _regeneration_target(
    *, user: AbstractBaseUser, conversation_id: int, message_id: int
) -> tuple[Conversation, Message]:
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    message = selectors.message_get(
        conversation=conversation, message_id=message_id, role=Message.Role.ASSISTANT
    )
    if message is None or message.parent is None:
        raise TurnRefused("not_found", "That reply does not exist.")
    return conversation, message.parent


async def stop(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Stop the reply streaming in one of the user's conversations."""
    await check_owner(user=user, conversation_id=conversation_id)
    await generation.stop(conversation_id)


async def check_owner(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Raise not_found unless the conversation exists and is the user's."""
    exists = await db(selectors.conversation_exists)(user=user, conversation_id=conversation_id)
    if not exists:
        raise TurnRefused("not_found", "That conversation does not exist.")
