"""Reads of tags: a user's, with how many conversations each is on; one by id; the ones
a search names."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count

from ..models import Conversation
from . import names
from .models import Tag


def tag_list(*, user_id: int) -> list[dict]:
    """The user's tags by name, each `{id, name, count}` (conversations it is on,
    archived ones included). One query; as long as CHAT_MAX_TAGS_PER_USER at most."""
    rows = (
        Tag.objects.filter(owner_id=user_id)
        .annotate(count=Count("conversations"))
        .order_by("key")
        .values_list("pk", "name", "count")
    )
    return [{"id": pk, "name": name, "count": count} for pk, name, count in rows]


def tag_get(*, user: AbstractBaseUser, tag_id: int) -> Tag | None:
    """The user's tag, or None (also when it is someone else's)."""
    return Tag.objects.filter(owner_id=user.pk, pk=tag_id).first()


def tags_named(*, user_id: int, raw_names: list[str]) -> list[Tag] | None:
    """The user's tags with these names (compared as names.key does), or None when any
    of them is no tag of theirs: a search for it finds nothing."""
    keys = set()
    for raw in raw_names:
        try:
            keys.add(names.key(names.normalise(raw)))
        except names.BadName:
            return None
    found = list(Tag.objects.filter(owner_id=user_id, key__in=keys))
    return found if len(found) == len(keys) else None


def conversation_tag_names(conversation: Conversation) -> list[str]:
    """A conversation's tag names, sorted: from its prefetched tags when it has them
    (conversation_list prefetches them), else one query."""
    return sorted((t.name for t in conversation.tags.all()), key=names.key)
