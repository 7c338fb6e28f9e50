"""Temporary chats and review: never queued (automatically or by staff's hand, who are
told why) and never in a dataset export."""

import json
import warnings

import pytest

from conversations.models import Conversation
from conversations.review import services as review
from conversations.review.models import AuditEntry, QueueItem
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db


def temporary(conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(temporary=True)
    conversation.refresh_from_db()
    return conversation


def test_nothing_queues_a_temporary_chat_automatically(client, reviewer, user):
    chat_ = temporary(chat(user))
    rate(chat_.current_leaf, "down")
    review.queue_auto(conversation=chat_, message=chat_.current_leaf, reason="error")
    review.report_set(user=user, conversation=chat_, categories=[], comment="")
    assert not QueueItem.objects.exists()
    # Rated, it is still no reviewer's to open (exactly as a missing id).
    client.force_login(reviewer)
    assert client.get(f"/admin/review/transcript/{chat_.pk}/").status_code == 404
    saved = chat(user)
    rate(saved.current_leaf, "down")  # A saved chat is queued as ever.
    assert QueueItem.objects.filter(conversation=saved).count() == 1


def test_staff_adding_one_by_hand_are_refused_with_a_reason(client, reviewer, boss, user):
    chat_ = temporary(chat(user))
    with pytest.raises(review.NotQueueable):
        review.queue_add(actor=reviewer, conversation=chat_)

    client.force_login(boss)  # Allowed to open any conversation.
    response = client.post(f"/admin/review/transcript/{chat_.pk}/queue", follow=True)
    assert "A temporary chat is never reviewed" in response.content.decode()

    saved = chat(user)
    response = client.post(
        "/admin/conversations/conversation/",
        {"action": "add_to_queue", "_selected_action": [saved.pk, chat_.pk]},
        follow=True,
    )
    assert "A temporary chat is never reviewed" in response.content.decode()
    assert not QueueItem.objects.exists()  # All or none.
    assert not AuditEntry.objects.filter(action="queue_add").exists()


def test_dataset_exports_never_hold_one(client, boss, user):
    saved, chat_ = chat(user), temporary(chat(user))
    rate(saved.current_leaf, "up")
    rate(chat_.current_leaf, "up")
    client.force_login(boss)
    for kind in ("finetune", "annotations"):
        response = client.post("/admin/review/datasets/", {"kind": kind})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lines = [json.loads(x) for x in b"".join(response).decode().splitlines()]
        assert len(lines) == 1, kind  # The saved chat's one good reply, or its rating.
    assert lines[0]["conversation"] == saved.pk
    exported = AuditEntry.objects.filter(action="export").exclude(conversation_id=None)
    assert set(exported.values_list("conversation_id", flat=True)) == {saved.pk}
