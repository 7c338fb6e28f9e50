"""Each write of the review app (conversations/review/services/), straight against the
database: what it changes, what it leaves alone, and what it records in the audit log."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.test import RequestFactory

from conversations.models import Conversation, Message
from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    Correction,
    DatasetOptOut,
    Feedback,
    QueueItem,
    Report,
    ReviewNote,
    Score,
    ScoreConfig,
)
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db

Reason, Status, Action = QueueItem.Reason, QueueItem.Status, AuditEntry.Action


def config(name: str) -> ScoreConfig:
    return ScoreConfig.objects.get(name=name)


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def queued(**filters) -> list[tuple[str, str]]:
    return list(QueueItem.objects.filter(**filters).values_list("reason", "status"))


# The hooks the conversations app calls as messages are saved.


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


# The queue.


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


# Users' feedback, reports and opt-outs.


def test_feedback_set_queues_a_thumbs_down_and_changing_it_takes_it_back(user):
    conversation = chat(user)
    answer = conversation.current_leaf
    feedback = review.feedback_set(
        user=user, message=answer, rating="down", categories=["wrong"], comment="No."
    )
    assert (feedback.conversation, feedback.user, feedback.comment) == (conversation, user, "No.")
    assert queued(message=answer) == [(Reason.THUMBS_DOWN, Status.OPEN)]
    again = review.feedback_set(user=user, message=answer, rating="up", categories=[], comment="")
    assert again.pk == feedback.pk and Feedback.objects.get().rating == "up"
    assert queued() == []


def test_feedback_withdraw(user):
    answer = chat(user).current_leaf
    rate(answer, "down")
    review.feedback_withdraw(message=answer)
    assert not Feedback.objects.exists() and queued() == []
    review.feedback_withdraw(message=answer)  # Nothing to take back: nothing happens.


def test_report_set_and_withdraw(user):
    conversation = chat(user)
    report = review.report_set(
        user=user, conversation=conversation, categories=["unsafe"], comment=""
    )
    again = review.report_set(user=user, conversation=conversation, categories=[], comment="Bad.")
    assert again.pk == report.pk and (again.categories, again.comment) == ([], "Bad.")
    assert queued(conversation=conversation) == [(Reason.REPORT, Status.OPEN)]
    review.report_withdraw(conversation=conversation)
    assert not Report.objects.exists() and queued() == []


def test_dataset_opt_out_set(user):
    review.dataset_opt_out_set(user=user, opted_out=True)
    review.dataset_opt_out_set(user=user, opted_out=True)
    assert DatasetOptOut.objects.filter(user=user).count() == 1
    review.dataset_opt_out_set(user=user, opted_out=False)
    assert not DatasetOptOut.objects.exists()


# Reviewers' annotations.


def test_parse_value_says_what_fits():
    helpfulness, hallucination = config("helpfulness"), config("hallucination")
    tone = ScoreConfig(name="tone", kind="categorical", categories=["terse", "verbose"])
    assert review.parse_value(helpfulness, " 4.5 ") == (4.5, "")
    assert review.parse_value(hallucination, "yes") == (1.0, "")
    assert review.parse_value(hallucination, "no") == (0.0, "")
    assert review.parse_value(tone, "terse") == (None, "terse")
    for score, raw, says in (
        (helpfulness, "lots", "give a number"),
        (helpfulness, "6", "from 1 to 5"),
        (hallucination, "maybe", "yes or no"),
        (tone, "rude", "terse, verbose"),
        (tone, None, "terse, verbose"),
    ):
        with pytest.raises(review.BadScore, match=says):
            review.parse_value(score, raw)


def test_score_set_replaces_the_authors_own_score_and_clear_removes_it(reviewer, boss, user):
    answer = chat(user).current_leaf
    helpfulness = config("helpfulness")
    review.score_set(author=reviewer, message=answer, config=helpfulness, raw="2")
    review.score_set(author=boss, message=answer, config=helpfulness, raw="5")
    saved = review.score_set(author=reviewer, message=answer, config=helpfulness, raw="3")
    assert saved.value == 3 and saved.conversation_id == answer.conversation_id
    assert sorted(Score.objects.values_list("value", flat=True)) == [3, 5]
    with pytest.raises(review.BadScore):
        review.score_set(author=reviewer, message=answer, config=helpfulness, raw="9")
    assert review.score_clear(author=reviewer, message=answer, config=helpfulness)
    assert not review.score_clear(author=reviewer, message=answer, config=helpfulness)
    assert list(Score.objects.values_list("author__username", flat=True)) == ["boss"]
    entries = AuditEntry.objects.filter(actor_id=reviewer.pk).order_by("id")
    assert [(e.action, e.detail) for e in entries] == [
        (Action.SCORE, {"config": "helpfulness", "value": "2"}),
        (Action.SCORE, {"config": "helpfulness", "value": "3"}),
        (Action.SCORE_CLEAR, {"config": "helpfulness"}),
    ]


def test_note_add_and_correction_add_keep_the_reply_as_it_was(reviewer, user):
    conversation = chat(user)
    answer = conversation.current_leaf
    whole = review.note_add(author=reviewer, conversation=conversation, message=None, text="All.")
    on_reply = review.note_add(
        author=reviewer, conversation=conversation, message=answer, text="This."
    )
    first = review.correction_add(author=reviewer, message=answer, content="Better.")
    second = review.correction_add(author=reviewer, message=answer, content="Best.")
    assert list(ReviewNote.objects.all()) == [whole, on_reply]
    assert list(Correction.objects.all()) == [first, second]
    assert second.conversation == conversation
    answer.refresh_from_db()
    assert answer.content == "answer 0"
    entries = AuditEntry.objects.order_by("id")
    assert [(e.action, e.message_id, e.detail) for e in entries] == [
        (Action.NOTE, None, {"note": whole.pk}),
        (Action.NOTE, answer.pk, {"note": on_reply.pk}),
        (Action.CORRECTION, answer.pk, {"correction": first.pk}),
        (Action.CORRECTION, answer.pk, {"correction": second.pk}),
    ]


# The audit log.


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


# Deletion by staff.


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
