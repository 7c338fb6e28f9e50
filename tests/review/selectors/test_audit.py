"""The audit log as staff read it (review/selectors/audit.py)."""

import pytest

from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
)
from tests.review.builders import chat

pytestmark = pytest.mark.django_db


def test_audit_log_marks_deleted_conversations_and_finds_by_id(boss, user, other_user):
    kept, gone = chat(user), chat(other_user)
    gone_id = gone.pk
    review.audit_record(actor=boss, action=AuditEntry.Action.NOTE, conversation=kept)
    review.conversation_delete_by_staff(actor=boss, conversation=gone)
    entries = {e.conversation_id: e.conversation_exists for e in selectors.audit_log()}
    assert entries == {kept.pk: True, gone_id: False}
    everything = list(selectors.audit_log())
    for number in (kept.pk, other_user.pk):
        about = selectors.audit_log_about(queryset=selectors.audit_log(), object_id=number)
        expected = {e.pk for e in everything if number in (e.conversation_id, e.owner_id)}
        assert {e.pk for e in about} == expected
    about = selectors.audit_log_about(queryset=selectors.audit_log(), object_id=other_user.pk)
    assert gone_id in {e.conversation_id for e in about}  # By its owner, though it is gone.
