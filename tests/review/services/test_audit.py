"""The audit log's entries (review/services/audit.py): who, about whom, never the text."""

import pytest
from django.test import RequestFactory

from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    QueueItem,
)
from tests.review.builders import chat

pytestmark = pytest.mark.django_db

Reason, Status, Action = QueueItem.Reason, QueueItem.Status, AuditEntry.Action


def test_audit_record_names_the_owner_and_no_text(boss, user):
    answer = chat(user).current_leaf
    request = RequestFactory().get("/admin/" + "x" * 400)
    entry = review.audit_record(
        actor=boss, action=Action.VIEW_MESSAGE, message=answer, request=request
    )
    entry.refresh_from_db()
    assert (entry.actor_id, entry.actor_username) == (boss.pk, "boss")
    assert (entry.conversation_id, entry.owner_id, entry.message_id) == (
        answer.conversation_id,
        user.pk,
        answer.pk,
    )
    assert entry.path == request.path[:300] and len(entry.path) == 300
    bare = review.audit_record(actor=boss, action=Action.SEARCH, detail={"results": 0})
    assert (bare.conversation_id, bare.owner_id, bare.path) == (None, None, "")


def test_audit_record_many_writes_one_entry_per_conversation(boss, user):
    first, second = chat(user), chat(user)
    count = review.audit_record_many(
        actor=boss,
        action=Action.EXPORT,
        conversations=[(first.pk, user.pk), (second.pk, user.pk)],
        detail={"kind": "finetune"},
    )
    assert count == 2
    rows = AuditEntry.objects.order_by("id").values_list("conversation_id", "owner_id", "detail")
    assert list(rows) == [
        (first.pk, user.pk, {"kind": "finetune"}),
        (second.pk, user.pk, {"kind": "finetune"}),
    ]
    assert review.audit_record_many(actor=boss, action=Action.EXPORT, conversations=[]) == 0
