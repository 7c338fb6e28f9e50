"""What a socket is shown of a conversation: its newest page on opening, older pages on scrolling.

A reply still streaming is shown with the text so far, from the running turn.
"""

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from .. import selectors
from ..models import Conversation, Message
from ..review import selectors as review_selectors
from . import generation, outbound
from .turns import TurnRefused


def owned_conversation(user: AbstractBaseUser, conversation_id: int) -> Conversation:
    """The user's conversation, or not_found (also when it is someone else's)."""
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    return conversation


def owned_message(conversation: Conversation, message_id: int) -> Message:
    """A message of the conversation, or not_found."""
    message = selectors.message_get(conversation=conversation, message_id=message_id)
    if message is None:
        raise TurnRefused("not_found", "That message does not exist.")
    return message


def message_page(
    conversation: Conversation, *, leaf_id: int | None, live=None
) -> tuple[list[dict], bool]:
    """Up to CHAT_PAGE_SIZE messages of the active branch ending at `leaf_id`, with versions.

    `live` (a running Generation) supplies the text so far of a reply still streaming.
    """
    size = settings.CHAT_PAGE_SIZE
    branch = selectors.message_branch(conversation=conversation, leaf_id=leaf_id, limit=size + 1)
    has_more = len(branch) > size
    branch = branch[-size:]
    siblings = selectors.message_siblings(conversation=conversation, messages=branch)
    feedback = review_selectors.feedback_by_message(
        user_id=conversation.owner_id,
        message_ids=[m.pk for m in branch if m.role == Message.Role.ASSISTANT],
    )
    page = []
    for message in branch:
        if live and message.pk == live.message_id:
            message.reasoning = live.reasoning[: live.sent_reasoning]
            data = outbound.message_data(message, content=live.content[: live.sent_content])
            data["seq"] = live.seq
        else:
            data = outbound.message_data(message)
        data["siblings"] = siblings[message.pk]
        if message.role == Message.Role.ASSISTANT:
            data["feedback"] = feedback.get(message.pk)  # The user's own rating, or None.
        page.append(data)
    return page, has_more


def state(user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame: the newest page of the active branch."""
    conversation = owned_conversation(user, conversation_id)
    live = generation.live(conversation.pk)
    page, has_more = message_page(conversation, leaf_id=conversation.current_leaf_id, live=live)
    return outbound.conversation_state(conversation, page, has_more=has_more)


async def conversation_state(*, user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame, read off the event loop."""
    return await db(state)(user, conversation_id)


def _history(user: AbstractBaseUser, conversation_id: int, before: int) -> dict:
    conversation = owned_conversation(user, conversation_id)
    message = owned_message(conversation, before)
    page, has_more = (
        message_page(conversation, leaf_id=message.parent_id) if message.parent_id else ([], False)
    )
    return outbound.conversation_history(conversation.pk, before, page, has_more=has_more)


async def history(*, user: AbstractBaseUser, conversation_id: int, before: int) -> dict:
    """A `conversation.history` frame: the page of the active branch just above `before`."""
    return await db(_history)(user, conversation_id, before)
