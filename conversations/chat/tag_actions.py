"""Tags from the chat: a conversation's set, a tag renamed or deleted (docs/protocol.md,
`conversation.tags`, `tag.rename`, `tag.delete`).

Every change reaches all the user's tabs: `conversation.updated` (which carries `tags`)
for a conversation whose tags were set, and `tags.changed` (the user's tags, with counts)
after any change.
"""

from channels.db import database_sync_to_async as db
from django.contrib.auth.models import AbstractBaseUser

from ..errors import not_found
from ..models import Conversation
from ..tags import selectors as tag_selectors
from ..tags import services as tag_services
from ..tags.models import Tag
from . import broadcast, outbound, pages


def _owned_tag(user: AbstractBaseUser, tag_id: int) -> Tag:
    tag = tag_selectors.tag_get(user=user, tag_id=tag_id)
    if tag is None:
        raise not_found("tag")
    return tag


def _set(user: AbstractBaseUser, conversation_id: int, names: list[str]) -> tuple[dict, list]:
    conversation: Conversation = pages.owned_conversation(user, conversation_id)
    tag_services.conversation_set_tags(conversation=conversation, names_given=names)
    updated = outbound.conversation_updated(conversation)
    return updated, tag_selectors.tag_list(user_id=user.pk)


async def set_tags(*, user: AbstractBaseUser, conversation_id: int, names: list[str]) -> None:
    """Make a conversation's tags exactly `names` (the user's own tags; new names make
    new ones)."""
    updated, tags = await db(_set)(user, conversation_id, names)
    await broadcast.publish_to_user(user.pk, updated)
    await broadcast.publish_to_user(user.pk, outbound.tags_changed(tags))


def _rename(user: AbstractBaseUser, tag_id: int, name: str) -> tuple[str, str, list]:
    tag = _owned_tag(user, tag_id)
    old = tag.name
    tag_services.tag_rename(tag=tag, name=name)
    return old, tag.name, tag_selectors.tag_list(user_id=user.pk)


async def rename(*, user: AbstractBaseUser, tag_id: int, name: str) -> None:
    """Rename one of the user's tags, on every conversation it is on."""
    old, new, tags = await db(_rename)(user, tag_id, name)
    await broadcast.publish_to_user(user.pk, outbound.tags_changed(tags, renamed=(old, new)))


def _delete(user: AbstractBaseUser, tag_id: int) -> tuple[str, list]:
    tag = _owned_tag(user, tag_id)
    name = tag.name
    tag_services.tag_delete(tag=tag)
    return name, tag_selectors.tag_list(user_id=user.pk)


async def delete(*, user: AbstractBaseUser, tag_id: int) -> None:
    """Delete one of the user's tags; its conversations stay."""
    name, tags = await db(_delete)(user, tag_id)
    await broadcast.publish_to_user(user.pk, outbound.tags_changed(tags, deleted=name))
