"""Living in conversations: versions (edit, switch), history pages, rename, pin, archive, delete."""

import asyncio

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from . import broadcast, frames, generation, selectors, services
from .models import Conversation, Message
from .turns import TurnRefused


def _conversation(user: AbstractBaseUser, conversation_id: int) -> Conversation:
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    return conversation


def _message(conversation: Conversation, message_id: int) -> Message:
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
    page = []
    for message in branch:
        if live and message.pk == live.message_id:
            message.reasoning = live.reasoning[: live.sent_reasoning]
            data = frames.message_data(message, content=live.content[: live.sent_content])
            data["seq"] = live.seq
        else:
            data = frames.message_data(message)
        data["siblings"] = siblings[message.pk]
        page.append(data)
    return page, has_more


def _state(user: AbstractBaseUser, conversation_id: int) -> dict:
    conversation = _conversation(user, conversation_id)
    live = generation.RUNNING.get(conversation.pk)
    page, has_more = message_page(conversation, leaf_id=conversation.current_leaf_id, live=live)
    return frames.conversation_state(conversation, page) | {"has_more": has_more}


async def conversation_state(*, user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame: the newest page of the active branch."""
    return await db(_state)(user, conversation_id)


def _history(user: AbstractBaseUser, conversation_id: int, before: int) -> dict:
    conversation = _conversation(user, conversation_id)
    message = _message(conversation, before)
    page, has_more = (
        message_page(conversation, leaf_id=message.parent_id) if message.parent_id else ([], False)
    )
    return {
        "type": "conversation.history",
        "conversation": conversation.pk,
        "before": before,
        "messages": page,
        "has_more": has_more,
    }


async def history(*, user: AbstractBaseUser, conversation_id: int, before: int) -> dict:
    """A `conversation.history` frame: the page of the active branch just above `before`."""
    return await db(_history)(user, conversation_id, before)


def _switch(user: AbstractBaseUser, conversation_id: int, message_id: int) -> Conversation:
    conversation = _conversation(user, conversation_id)
    _message(conversation, message_id)
    leaf = selectors.message_latest_leaf(conversation=conversation, message_id=message_id)
    return services.conversation_switch(conversation=conversation, leaf_id=leaf)


async def switch(*, user: AbstractBaseUser, conversation_id: int, message_id: int) -> None:
    """Show (and continue) the version of the conversation that runs through `message_id`."""
    if conversation_id in generation.RUNNING:
        raise TurnRefused("busy", "Wait for the reply to finish before switching versions.")
    await db(_switch)(user, conversation_id, message_id)
    state = await db(_state)(user, conversation_id)
    await broadcast.publish(conversation_id, state)


def _rename(user, conversation_id: int, title: str) -> Conversation:
    return services.conversation_rename(
        conversation=_conversation(user, conversation_id), title=title
    )


def _flags(user, conversation_id: int, pinned: bool | None, archived: bool | None) -> Conversation:
    return services.conversation_set_flags(
        conversation=_conversation(user, conversation_id), pinned=pinned, archived=archived
    )


async def rename(*, user: AbstractBaseUser, conversation_id: int, title: str) -> None:
    """Rename; the user's title always wins over an automatic one."""
    conversation = await db(_rename)(user, conversation_id, title)
    await broadcast.publish_to_user(user.pk, frames.conversation_updated(conversation))


async def set_flags(
    *, user: AbstractBaseUser, conversation_id: int, pinned: bool | None, archived: bool | None
) -> None:
    """Pin or archive (or undo either), live in every tab."""
    conversation = await db(_flags)(user, conversation_id, pinned, archived)
    await broadcast.publish_to_user(user.pk, frames.conversation_updated(conversation))


async def delete(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Delete a conversation for good, stopping its reply first if one is running."""
    conversation = await db(_conversation)(user, conversation_id)
    running = generation.RUNNING.get(conversation.pk)
    if running and running.task:
        await generation.stop(conversation.pk)
        await asyncio.gather(running.task, return_exceptions=True)
    await db(services.conversation_delete)(conversation=conversation)
    await broadcast.publish_to_user(user.pk, frames.conversation_deleted(conversation_id))
    await broadcast.publish(conversation_id, frames.conversation_deleted(conversation_id))
