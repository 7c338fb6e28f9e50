"""Reads of queue items' locks: who has an item open, and which items are others'."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from ...models import Conversation
from ..models import QueueItem, ReviewLock


def lock_held_by_other(
    *, user: AbstractBaseUser, conversation: Conversation | None = None, item_id: int | None = None
) -> ReviewLock | None:
    """The unexpired lock another reviewer holds on this item, or on any unresolved item
    of this conversation (writes to it wait for them), with its holder; else None."""
    locks = (
        ReviewLock.objects.filter(expires_at__gt=timezone.now())
        .exclude(holder=user)
        .select_related("holder")
    )
    if item_id is not None:
        return locks.filter(item_id=item_id).first()
    return locks.filter(
        item__conversation=conversation, item__status__in=QueueItem.UNRESOLVED
    ).first()


def items_locked_by_others(*, user: AbstractBaseUser, item_ids: list[int]) -> set[int]:
    """Which of these items another reviewer holds now."""
    return set(
        ReviewLock.objects.filter(item_id__in=item_ids, expires_at__gt=timezone.now())
        .exclude(holder=user)
        .values_list("item_id", flat=True)
    )
