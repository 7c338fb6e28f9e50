"""What a socket is shown of a conversation: its newest page on opening, older pages on scrolling.

A reply still streaming is shown with the text so far, from the running turn.
"""

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from .. import selectors
from ..errors import TurnRefused
from ..models import Conversation, Message
from ..provider import availability
from ..review import selectors as review_selectors
from . import lifecycle, outbound


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


def message_page(conversation: Conversation, *, leaf_id: int | None) -> tuple[list[dict], bool]:
    """The newest messages of the branch ending at `leaf_id`, with their versions.

    At most CHAT_PAGE_SIZE messages, and (but for the newest one, whatever its size)
    no more than CHAT_PAGE_BYTES of frame: a conversation of long answers opens as fast
    as one of short ones, and the rest comes page by page.
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
    page: list[dict] = []
    budget = settings.CHAT_PAGE_BYTES
    for message in reversed(branch):
        data = outbound.message_data(message)
        data["siblings"] = siblings[message.pk]
        if message.role == Message.Role.ASSISTANT:
            data["feedback"] = feedback.get(message.pk)  # The user's own rating, or None.
        budget -= outbound.frame_size(data)
        if page and budget < 0:
            has_more = True
            break
        page.append(data)
    page.reverse()
    return page, has_more


def state(user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame from the database: the newest page of the active branch."""
    conversation = owned_conversation(user, conversation_id)
    page, has_more = message_page(conversation, leaf_id=conversation.current_leaf_id)
    model = conversation.model or (conversation.persona.model if conversation.persona else "")
    return outbound.conversation_state(
        conversation,
        page,
        has_more=has_more,
        model_available=availability.policy().usable(model or settings.LLM_DEFAULT_MODEL),
    )


def streaming_message(frame: dict) -> dict | None:
    """The reply still streaming in a state frame, if any."""
    return next((m for m in frame["messages"] if m["status"] == "streaming"), None)


def apply_snapshot(frame: dict, snapshot: dict) -> None:
    """Show a streaming reply as its turn's frames have: the text so far and its seq.

    The saved text can be up to a second old; the snapshot lines up exactly with the
    deltas that follow it (those with a higher seq).
    """
    for message in frame["messages"]:
        if message["id"] == snapshot["message"]:
            message |= {
                "content": snapshot["content"],
                "reasoning": snapshot["reasoning"],
                "seq": snapshot["seq"],
                "html": snapshot["html"],
                "stable": snapshot["stable"],
            }
            if snapshot.get("waiting"):
                message["waiting"] = snapshot["waiting"]


async def conversation_state(*, user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame; a reply streaming in this process shows its live text."""
    frame = await db(state)(user, conversation_id)
    turn = lifecycle.local(conversation_id)
    if turn is not None and turn.message_id is not None:
        apply_snapshot(frame, turn.snapshot())
    return frame


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
