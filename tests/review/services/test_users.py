"""Users' feedback, reports and dataset opt-outs (review/services/users.py)."""

import pytest

from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    DatasetOptOut,
    Feedback,
    QueueItem,
    Report,
)
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db

Reason, Status, Action = QueueItem.Reason, QueueItem.Status, AuditEntry.Action


def queued(**filters) -> list[tuple[str, str]]:
    return list(QueueItem.objects.filter(**filters).values_list("reason", "status"))


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
