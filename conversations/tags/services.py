"""Writes for tags: a conversation's tags set, a tag renamed or deleted.

Every name goes through names.normalise; a user's tags are found by their folded key, so
"Work" and "work" are one tag. Both bounds are settings: CHAT_MAX_TAGS_PER_CONVERSATION
and CHAT_MAX_TAGS_PER_USER. Changing a conversation's tags leaves its place in the
sidebar (updated_at) alone: a label is not activity.
"""

from django.conf import settings
from django.db import transaction

from ..errors import TurnRefused
from ..models import Conversation
from . import names
from .models import Tag

# The most names one request may carry before any is looked at (the real bound, per
# conversation, is a setting and lower).
MAX_NAMES_ASKED = 100


def _refused(message: str) -> TurnRefused:
    return TurnRefused("bad_request", message)


def _checked(raw: str) -> str:
    try:
        return names.normalise(raw)
    except names.BadName as exc:
        raise _refused(str(exc)) from None


def _distinct(raw_names: list[str]) -> dict[str, str]:
    """Each name's key and its normal form, in order, each tag once."""
    if len(raw_names) > MAX_NAMES_ASKED:
        raise _refused(
            f"A conversation may have at most {settings.CHAT_MAX_TAGS_PER_CONVERSATION} tags."
        )
    wanted: dict[str, str] = {}
    for raw in raw_names:
        name = _checked(raw)
        wanted.setdefault(names.key(name), name)
    if len(wanted) > settings.CHAT_MAX_TAGS_PER_CONVERSATION:
        raise _refused(
            f"A conversation may have at most {settings.CHAT_MAX_TAGS_PER_CONVERSATION} tags."
        )
    return wanted


def _owned_or_made(owner_id: int, wanted: dict[str, str], *, strict: bool) -> list[Tag]:
    """The owner's tags with these keys, the missing ones made (within the owner's bound:
    past it, refused when `strict`, else left out)."""
    found = {t.key: t for t in Tag.objects.filter(owner_id=owner_id, key__in=list(wanted))}
    missing = [k for k in wanted if k not in found]
    if missing:
        room = settings.CHAT_MAX_TAGS_PER_USER - Tag.objects.filter(owner_id=owner_id).count()
        if len(missing) > room and strict:
            raise _refused(
                f"You have {settings.CHAT_MAX_TAGS_PER_USER} tags, the most one may keep: "
                "delete some you no longer use first."
            )
        for key in missing[: max(room, 0)]:
            found[key] = Tag.objects.create(owner_id=owner_id, name=wanted[key], key=key)
    return [found[k] for k in wanted if k in found]


def conversation_set_tags(*, conversation: Conversation, names_given: list[str]) -> list[Tag]:
    """Make the conversation's tags exactly these (by name; tags of its owner only, new
    ones made). Refused whole (bad_request) when a name is not allowed or a bound is
    passed; nothing changes then."""
    wanted = _distinct(names_given)
    with transaction.atomic():
        tags = _owned_or_made(conversation.owner_id, wanted, strict=True)
        conversation.tags.set(tags)
    return tags


def conversation_add_imported_tags(*, conversation: Conversation, names_given: list[str]) -> None:
    """An imported conversation's tags (names checked by the import's schema), as many as
    the bounds allow: an import is not refused for its labels."""
    wanted: dict[str, str] = {}
    for raw in names_given[:MAX_NAMES_ASKED]:
        try:
            name = names.normalise(raw)
        except names.BadName:
            continue
        wanted.setdefault(names.key(name), name)
    wanted = dict(list(wanted.items())[: settings.CHAT_MAX_TAGS_PER_CONVERSATION])
    if wanted:
        conversation.tags.add(*_owned_or_made(conversation.owner_id, wanted, strict=False))


def tag_rename(*, tag: Tag, name: str) -> Tag:
    """A new name for a tag, on every conversation it is on. Refused when the owner has
    another tag of that name."""
    name = _checked(name)
    key = names.key(name)
    if Tag.objects.filter(owner_id=tag.owner_id, key=key).exclude(pk=tag.pk).exists():
        raise _refused(f"You already have a tag named “{name}”.")
    tag.name, tag.key = name, key
    tag.save(update_fields=["name", "key"])
    return tag


def tag_delete(*, tag: Tag) -> None:
    """Delete a tag: it comes off every conversation; the conversations stay."""
    tag.delete()


def account_tags_delete(*, user_id: int) -> int:
    """Every tag of an account (see tags/cleanup.py): how many went."""
    return Tag.objects.filter(owner_id=user_id).delete()[1].get(Tag._meta.label, 0)
