"""The review queue's counts and items, and who may be given them
(review/selectors/queue.py)."""

import pytest

from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import (
    QueueItem,
)
from tests.review.builders import chat, queries

pytestmark = pytest.mark.django_db


def test_queue_counts_by_status_reason_and_mine(reviewer, user):
    conversation = chat(user)
    review.queue_auto(conversation=conversation, message=None, reason=QueueItem.Reason.REPORT)
    failed = review.queue_auto(
        conversation=conversation, message=None, reason=QueueItem.Reason.ERROR
    )
    done = review.queue_add(actor=reviewer, conversation=conversation)
    review.queue_assign(actor=reviewer, items=[failed], assignee=reviewer)
    review.queue_set_status(actor=reviewer, items=[done], status=QueueItem.Status.DISMISSED)
    counts, count = queries(lambda: selectors.queue_counts(user=reviewer))
    assert count == 1
    assert (counts["open"], counts["in_review"], counts["mine"]) == (1, 1, 1)
    assert counts["by_reason"] == {
        "thumbs_down": 0,
        "report": 1,
        "error": 1,
        "tool_error": 0,
        "manual": 0,
    }
    assert ("Reported", "report", 1) in counts["reasons"]


def test_assignees_are_active_staff_who_may_review(reviewer, boss, staff, django_user_model):
    gone = django_user_model.objects.create_user(username="gone", is_staff=True, is_active=False)
    gone.groups.set(reviewer.groups.all())
    assert list(selectors.assignees()) == [boss, reviewer]
    assert selectors.assignee_get(user_id=reviewer.pk) == reviewer
    assert selectors.assignee_get(user_id=str(boss.pk)) == boss
    assert selectors.assignee_get(user_id=staff.pk) is None
    assert selectors.assignee_get(user_id=gone.pk) is None
    assert selectors.assignee_get(user_id=None) is None


def test_queue_items_by_id_within_a_conversation_and_as_chosen(reviewer, user):
    conversation, other = chat(user), chat(user)
    item = review.queue_add(
        actor=reviewer, conversation=conversation, message=conversation.current_leaf
    )
    assert selectors.queue_item_get(item_id=item.pk) == item
    assert selectors.queue_item_get(item_id=str(item.pk)) == item
    assert selectors.queue_item_get(item_id=10**9) is None
    assert selectors.queue_item_in(conversation=conversation, item_id=item.pk) == item
    assert selectors.queue_item_in(conversation=other, item_id=item.pk) is None
    chosen, count = queries(lambda: selectors.queue_items_chosen(items=QueueItem.objects.all()))
    assert chosen == [item] and count == 1
    assert queries(lambda: (chosen[0].conversation.title, chosen[0].message.role))[1] == 0
