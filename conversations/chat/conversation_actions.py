"""Changing a conversation from the chat: switch versions, rename, pin, archive, delete,
and its settings (persona, model, parameters).

Every change reaches every open tab: the conversation's sockets, or all the user's.
"""

import asyncio

from channels.db import database_sync_to_async as db
from django.contrib.auth.models import AbstractBaseUser

from .. import selectors, services
from ..deletion import services as deletion
from ..errors import TurnRefused, not_found
from ..models import Conversation
from ..projects import selectors as project_selectors
from ..projects import services as project_services
from ..provider import availability
from ..turns import checks as turn_checks
from . import broadcast, lifecycle, outbound, pages

STOP_WAIT = 5.0  # How long a delete waits for a running turn to stop, wherever it runs.


def _switch(user: AbstractBaseUser, conversation_id: int, message_id: int) -> Conversation:
    conversation = pages.owned_conversation(user, conversation_id)
    if selectors.conversation_turn_running(conversation=conversation):
        raise TurnRefused("busy", "Wait for the reply to finish before switching versions.")
    pages.owned_message(conversation, message_id)
    leaf = selectors.message_latest_leaf(conversation=conversation, message_id=message_id)
    return services.conversation_switch(conversation=conversation, leaf_id=leaf)


async def switch(*, user: AbstractBaseUser, conversation_id: int, message_id: int) -> None:
    """Show (and continue) the version of the conversation that runs through `message_id`."""
    await db(_switch)(user, conversation_id, message_id)
    state = await pages.state(user=user, conversation_id=conversation_id)
    await broadcast.publish(conversation_id, state)


def _rename(user: AbstractBaseUser, conversation_id: int, title: str) -> Conversation:
    return services.conversation_rename(
        conversation=pages.owned_conversation(user, conversation_id), title=title
    )


def _flags(
    user: AbstractBaseUser, conversation_id: int, pinned: bool | None, archived: bool | None
) -> Conversation:
    return services.conversation_set_flags(
        conversation=pages.owned_conversation(user, conversation_id),
        pinned=pinned,
        archived=archived,
    )


async def rename(*, user: AbstractBaseUser, conversation_id: int, title: str) -> None:
    """Rename; the user's title always wins over an automatic one."""
    conversation = await db(_rename)(user, conversation_id, title)
    await broadcast.publish_to_user(user.pk, await db(outbound.conversation_updated)(conversation))


async def set_flags(
    *, user: AbstractBaseUser, conversation_id: int, pinned: bool | None, archived: bool | None
) -> None:
    """Pin or archive (or undo either), live in every tab."""
    conversation = await db(_flags)(user, conversation_id, pinned, archived)
    await broadcast.publish_to_user(user.pk, await db(outbound.conversation_updated)(conversation))


def _move(user: AbstractBaseUser, conversation_id: int, project_id: int | None) -> Conversation:
    conversation = pages.owned_conversation(user, conversation_id)
    project = None
    if project_id is not None:
        project = project_selectors.project_get(user=user, project_id=project_id)
        if project is None:  # Another user's project is as missing as one never made.
            raise not_found("project")
    return project_services.conversation_move(conversation=conversation, project=project)


async def move(*, user: AbstractBaseUser, conversation_id: int, project_id: int | None) -> None:
    """Put a conversation in one of the user's projects, or take it out, live in every tab."""
    conversation = await db(_move)(user, conversation_id, project_id)
    await broadcast.publish_to_user(user.pk, await db(outbound.conversation_updated)(conversation))


def _settings(
    user: AbstractBaseUser, conversation_id: int, change: services.SettingsChange
) -> Conversation:
    conversation = pages.owned_conversation(user, conversation_id)
    if change.chosen_model:  # The catalog was checked before; now the user's groups.
        availability.policy().check_chosen(change.chosen_model, user_id=user.pk)
    persona = turn_checks.settings_persona(user=user, change=change)
    services.conversation_update_settings(conversation=conversation, change=change, persona=persona)
    return conversation


async def update_settings(
    *, user: AbstractBaseUser, conversation_id: int, change: services.SettingsChange
) -> None:
    """Change the persona, model or parameters the conversation's next reply uses, live in
    every tab (a reply already streaming keeps what it was sent with). A model chosen must
    be one the catalog allows, as for a send."""
    if change.chosen_model:
        (await availability.current()).check_chosen(change.chosen_model)
    conversation = await db(_settings)(user, conversation_id, change)
    await broadcast.publish_to_user(user.pk, await db(outbound.conversation_updated)(conversation))


async def delete(*, user: AbstractBaseUser, conversation_id: int) -> None:
    """Delete a conversation for good, stopping its reply first if one is running."""
    conversation = await db(pages.owned_conversation)(user, conversation_id)
    if selectors.conversation_turn_running(conversation=conversation):
        await lifecycle.stop(conversation.pk)
        await _wait_stopped(conversation)
    await db(deletion.conversation_delete)(conversation=conversation)
    await broadcast.publish_to_user(user.pk, outbound.conversation_deleted(conversation_id))
    await broadcast.publish(conversation_id, outbound.conversation_deleted(conversation_id))


async def _wait_stopped(conversation: Conversation) -> None:
    """Wait, a bounded time, for the turn to end and release its lease."""
    await lifecycle.wait_ended(conversation.pk, timeout=STOP_WAIT)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_WAIT
    while loop.time() < deadline:
        fresh = await db(selectors.conversation_get_by_id)(conversation_id=conversation.pk)
        if fresh is None or not selectors.conversation_turn_running(conversation=fresh):
            return
        await asyncio.sleep(0.1)
