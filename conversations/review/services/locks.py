"""Locks on queue items: the reviewer with an item's page open holds it for a while.

A lock lasts CHAT_REVIEW_LOCK_SECONDS and the open page renews it; an expired lock is
taken over without asking. A reviewer holds one lock at a time, so moving to another
item (or closing it) frees the last one even when the page could not say so.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import QueueItem, ReviewLock


def lock_take(*, item: QueueItem, user: AbstractBaseUser) -> tuple[bool, ReviewLock]:
    """Take or renew the item's lock for `user`, unless another reviewer holds it and it
    has not expired. Returns (whether `user` holds it now, the lock)."""
    now = timezone.now()
    expires = now + timedelta(seconds=settings.CHAT_REVIEW_LOCK_SECONDS)
    with transaction.atomic():
        lock = ReviewLock.objects.select_for_update().filter(item=item).first()
        if lock is None:
            try:
                with transaction.atomic():
                    lock = ReviewLock.objects.create(item=item, holder=user, expires_at=expires)
            except IntegrityError:  # Another reviewer's request made it first.
                lock = ReviewLock.objects.select_for_update().get(item=item)
        if lock.holder_id != user.pk and lock.expires_at > now:
            return False, lock
        lock.holder, lock.expires_at = user, expires
        lock.save(update_fields=["holder", "expires_at"])
    ReviewLock.objects.filter(holder=user).exclude(item=item).delete()
    return True, lock


def lock_release(*, user: AbstractBaseUser, item_id: int | None = None) -> int:
    """Free the user's lock (on this item, or any); another reviewer's is left alone."""
    locks = ReviewLock.objects.filter(holder=user)
    if item_id is not None:
        locks = locks.filter(item_id=item_id)
    return locks.delete()[0]
