"""The review queue (review/services/queue.py): the hooks the conversations app calls as
messages are saved, and the queue's workflow, each change audited."""

import pytest

from conversations.models import Conversation, Message
from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    QueueItem,
)
from tests.review.builders import chat

pytestmark = pytest.mark.django_db

Reason, Status, Action = QueueItem.Reason, QueueItem.Status, AuditEntry.Action


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def queued(**filters) -> list[tuple[str, str]]:
    return list(QueueItem.objects.filter(**filters).values_list("reason", "status"))


def test_message_created_queues_a_tools_error_only(user):
    conversation = chat(user)
    for content in ("42", "Error: ZeroDivisionError"):
        message = Message.objects.create(
            conversation=conversation,
            role="tool",
            content=content,
            parent=conversation.current_leaf,
        )
        review.message_created(message, conversation)
    asked = Message.objects.create(conversation=conversation, role="user", content="Error: mine")
    review.message_created(asked, conversation)
    assert queued() == [(Reason.TOOL_ERROR, Status.OPEN)]
    assert QueueItem.objects.get().message.content == "Error: ZeroDivisionError"


def test_reply_finished_queues_a_failed_reply(user):
    conversation = chat(user)
    review.reply_finished(conversation.current_leaf)
    assert queued() == []
    failed = conversation.current_leaf
    failed.status = Message.Status.ERROR
    review.reply_finished(failed)
    assert queued(message=failed) == [(Reason.ERROR, Status.OPEN)]


def test_queue_auto_adds_each_waiting_thing_once(user):
    conversation = chat(user, turns=2)
    last, first = conversation.current_leaf, conversation.current_leaf.parent.parent
    one = review.queue_auto(conversation=conversation, message=last, reason=Reason.THUMBS_DOWN)
    assert (
        review.queue_auto(conversation=conversation, message=last, reason=Reason.THUMBS_DOWN) == one
    )
    other = review.queue_auto(conversation=conversation, message=first, reason=Reason.THUMBS_DOWN)
    assert other != one and other.model == "m"
    # A failure stands for the whole conversation: one waiting item, whichever reply.
    failed = review.queue_auto(conversation=conversation, message=first, reason=Reason.ERROR)
    assert review.queue_auto(conversation=conversation, message=last, reason=Reason.ERROR) == failed
    QueueItem.objects.filter(pk=failed.pk).update(status=Status.RESOLVED)
    again = review.queue_auto(conversation=conversation, message=last, reason=Reason.ERROR)
    assert again != failed  # Resolved: a new failure is a new thing to look at.
    assert actions() == []  # Automatic items are nobody's act.


def test_queue_drop_untouched_keeps_what_a_reviewer_took_up(reviewer, user):
    conversation = chat(user, turns=2)
    last, first = conversation.current_leaf, conversation.current_leaf.parent.parent
    for message in (last, first):
        review.queue_auto(conversation=conversation, message=message, reason=Reason.THUMBS_DOWN)
    taken = QueueItem.objects.get(message=first)
    review.queue_assign(actor=reviewer, items=[taken], assignee=reviewer)
    for message in (last, first):
        review.queue_drop_untouched(
            conversation=conversation, message=message, reason=Reason.THUMBS_DOWN
        )
    assert list(QueueItem.objects.all()) == [taken]


def test_queue_add_by_hand_is_audited(reviewer, user):
    conversation = chat(user)
    whole = review.queue_add(actor=reviewer, conversation=conversation)
    one = review.queue_add(
        actor=reviewer, conversation=conversation, message=conversation.current_leaf
    )
    assert (whole.reason, whole.created_by, whole.message) == (Reason.MANUAL, reviewer, None)
    assert one.message == conversation.current_leaf
    entries = AuditEntry.objects.order_by("id")
    assert [(e.action, e.queue_item_id, e.owner_id) for e in entries] == [
        (Action.QUEUE_ADD, whole.pk, user.pk),
        (Action.QUEUE_ADD, one.pk, user.pk),
    ]


def test_queue_add_many_adds_all_or_none(reviewer, user):
    first, second = chat(user), chat(user)
    assert review.queue_add_many(actor=reviewer, conversations=[first, second]) == 2
    assert set(QueueItem.objects.values_list("conversation_id", flat=True)) == {first.pk, second.pk}
    unsaved = Conversation(owner=user, model="m")  # Not in the database: its item cannot be.
    with pytest.raises(ValueError):
        review.queue_add_many(actor=reviewer, conversations=[first, unsaved])
    assert QueueItem.objects.count() == 2
    assert review.queue_add_many(actor=reviewer, conversations=[]) == 0


def test_queue_assign_takes_open_items_into_review(reviewer, boss, user):
    conversation = chat(user)
    waiting = review.queue_add(actor=boss, conversation=conversation)
    resolved = review.queue_add(actor=boss, conversation=conversation)
    review.queue_set_status(actor=boss, items=[resolved], status=Status.RESOLVED)
    assert review.queue_assign(actor=boss, items=[waiting, resolved], assignee=reviewer) == 2
    waiting.refresh_from_db()
    resolved.refresh_from_db()
    assert (waiting.assignee, waiting.status) == (reviewer, Status.IN_REVIEW)
    assert (resolved.assignee, resolved.status) == (reviewer, Status.RESOLVED)
    review.queue_assign(actor=boss, items=[waiting], assignee=None)
    waiting.refresh_from_db()
    assert (waiting.assignee, waiting.status) == (None, Status.IN_REVIEW)
    details = AuditEntry.objects.filter(action=Action.QUEUE_ASSIGN).order_by("id")
    assert [e.detail["assignee"] for e in details] == ["rita", "rita", None]


def test_queue_set_status_follows_the_workflow(reviewer, boss, user):
    conversation = chat(user)
    item = review.queue_add(actor=boss, conversation=conversation)
    other = review.queue_add(actor=boss, conversation=conversation)
    review.queue_set_status(actor=reviewer, items=[item], status=Status.IN_REVIEW)
    assert item.assignee == reviewer  # Taking an item up takes it.
    review.queue_set_status(actor=boss, items=[item], status=Status.RESOLVED, note="Fixed.")
    item.refresh_from_db()
    assert (item.status, item.resolved_by, item.resolution_note) == (
        Status.RESOLVED,
        boss,
        "Fixed.",
    )
    assert item.resolved_at is not None
    with pytest.raises(review.BadTransition):
        review.queue_set_status(actor=boss, items=[other, item], status=Status.DISMISSED)
    other.refresh_from_db()
    assert other.status == Status.OPEN  # One bad item changes none of them.
    review.queue_set_status(actor=boss, items=[item], status=Status.OPEN)
    item.refresh_from_db()
    assert (item.status, item.resolved_by, item.resolved_at) == (Status.OPEN, None, None)
    details = [
        e.detail for e in AuditEntry.objects.filter(action=Action.QUEUE_STATUS).order_by("id")
    ]
    assert details == [
        {"from": "open", "to": "in_review"},
        {"from": "in_review", "to": "resolved"},
        {"from": "resolved", "to": "open"},
    ]
    assert all(Status.OPEN in review.TRANSITIONS[s] for s in Status if s != Status.OPEN)
