"""Staff deleting a conversation (review/services/deletion.py): a tombstone, no title."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry

from conversations.models import Conversation, Message
from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    Feedback,
    QueueItem,
)
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db

Reason, Status, Action = QueueItem.Reason, QueueItem.Status, AuditEntry.Action


def test_conversation_delete_by_staff_leaves_only_a_tombstone(boss, user):
    conversation = chat(user, turns=2, title="Secret plans")
    rate(conversation.current_leaf, "down")
    conversation_id = conversation.pk
    review.conversation_delete_by_staff(actor=boss, conversation=conversation)
    assert not Conversation.objects.filter(pk=conversation_id).exists()
    assert not Message.objects.exists() and not Feedback.objects.exists()
    assert not QueueItem.objects.exists()
    tombstone = AuditEntry.objects.get()
    assert (tombstone.action, tombstone.conversation_id, tombstone.owner_id) == (
        Action.DELETE,
        conversation_id,
        user.pk,
    )


def test_deletions_log_keeps_no_title(boss, user):
    first, second = chat(user, title="Secret plans"), chat(user, title="More secrets")
    review.deletions_log(actor=boss, conversations=[first, second])
    entries = LogEntry.objects.order_by("id")
    assert [(e.object_id, e.object_repr, e.action_flag) for e in entries] == [
        (str(first.pk), f"Conversation #{first.pk}", DELETION),
        (str(second.pk), f"Conversation #{second.pk}", DELETION),
    ]
    assert {e.user_id for e in entries} == {boss.pk}
    assert Conversation.objects.count() == 2  # Logging a deletion deletes nothing.
