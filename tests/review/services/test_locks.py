"""Locks on queue items: taken on opening, renewed by the same reviewer, refused to
another until they expire, taken over silently after; one per reviewer; released."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from conversations.review import services
from conversations.review.models import QueueItem, ReviewLock
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db


def items(user, n: int) -> list[QueueItem]:
    for _ in range(n):
        rate(chat(user).current_leaf, "down")
    return list(QueueItem.objects.order_by("pk"))


@override_settings(CHAT_REVIEW_LOCK_SECONDS=120)
def test_taken_renewed_refused_then_taken_over(reviewer, boss, user):
    [item] = items(user, 1)
    holds, lock = services.lock_take(item=item, user=reviewer)
    assert holds and lock.holder == reviewer
    assert timedelta(seconds=110) < lock.expires_at - timezone.now() <= timedelta(seconds=120)
    ReviewLock.objects.update(expires_at=timezone.now() + timedelta(seconds=5))
    holds, lock = services.lock_take(item=item, user=reviewer)  # Renewed.
    assert holds and lock.expires_at - timezone.now() > timedelta(seconds=110)
    holds, lock = services.lock_take(item=item, user=boss)
    assert not holds and lock.holder == reviewer  # Refused: Rita has it.
    assert ReviewLock.objects.get().holder == reviewer
    ReviewLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    holds, lock = services.lock_take(item=item, user=boss)  # Expired: taken over.
    assert holds and ReviewLock.objects.get().holder == boss


def test_one_lock_a_reviewer_and_release_frees_only_ones_own(reviewer, boss, user):
    one, two = items(user, 2)
    services.lock_take(item=one, user=reviewer)
    services.lock_take(item=two, user=reviewer)
    assert list(ReviewLock.objects.values_list("item_id", flat=True)) == [two.pk]
    assert services.lock_release(user=boss, item_id=two.pk) == 0
    assert services.lock_release(user=reviewer, item_id=two.pk) == 1
    assert not ReviewLock.objects.exists()
