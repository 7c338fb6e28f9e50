"""Reads of locks: another reviewer's unexpired lock on an item or on an unresolved item
of a conversation; which items of a list others hold."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.review import selectors, services
from conversations.review.models import QueueItem, ReviewLock
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db


def test_another_reviewers_live_lock_only(reviewer, boss, user):
    rate(chat(user).current_leaf, "down")
    rate(chat(user).current_leaf, "down")
    one, two = QueueItem.objects.order_by("pk")
    services.lock_take(item=one, user=reviewer)
    assert selectors.lock_held_by_other(user=reviewer, item_id=one.pk) is None  # Her own.
    held = selectors.lock_held_by_other(user=boss, conversation=one.conversation)
    assert held.holder == reviewer
    assert selectors.lock_held_by_other(user=boss, conversation=two.conversation) is None
    assert selectors.items_locked_by_others(user=boss, item_ids=[one.pk, two.pk]) == {one.pk}
    QueueItem.objects.filter(pk=one.pk).update(status="resolved")
    # A resolved item no longer holds up writes to its conversation, but is still open.
    assert selectors.lock_held_by_other(user=boss, conversation=one.conversation) is None
    assert selectors.lock_held_by_other(user=boss, item_id=one.pk) is not None
    ReviewLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert selectors.lock_held_by_other(user=boss, item_id=one.pk) is None
    assert selectors.items_locked_by_others(user=boss, item_ids=[one.pk]) == set()
