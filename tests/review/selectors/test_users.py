"""Users' own feedback and reports, and what staff may read of theirs
(review/selectors/users.py)."""

import pytest

from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import (
    DatasetOptOut,
)
from tests.review.builders import chat, queries, rate

pytestmark = pytest.mark.django_db


def test_feedback_and_report_data():
    assert selectors.feedback_data(None) is None
    assert selectors.report_data(None) is None


def test_users_read_their_own_feedback_and_reports(user, other_user):
    conversation, others = chat(user, turns=2), chat(other_user)
    first, last = conversation.current_leaf.parent.parent, conversation.current_leaf
    rate(last, "down", categories=["wrong"], comment="No.")
    rate(others.current_leaf, "up")
    mine = selectors.feedback_by_message(
        user_id=user.pk, message_ids=[first.pk, last.pk, others.current_leaf.pk]
    )
    assert list(mine) == [last.pk]
    assert mine[last.pk]["rating"] == "down" and mine[last.pk]["categories"] == ["wrong"]
    assert queries(lambda: selectors.feedback_by_message(user_id=user.pk, message_ids=[])) == (
        {},
        0,
    )
    assert selectors.own_feedback(message=last).comment == "No."
    assert selectors.own_feedback(message=first) is None
    assert selectors.own_report(conversation=conversation) is None
    review.report_set(user=user, conversation=conversation, categories=["wrong"], comment="")
    report = selectors.report_data(selectors.own_report(conversation=conversation))
    assert report["categories"] == ["wrong"] and report["comment"] == ""


def test_own_assistant_message_is_a_reply_of_ones_own(user, other_user):
    conversation = chat(user)
    answer = conversation.current_leaf
    assert selectors.own_assistant_message(user=user, message_id=answer.pk) == answer
    assert selectors.own_assistant_message(user=other_user, message_id=answer.pk) is None
    question = answer.parent
    assert selectors.own_assistant_message(user=user, message_id=question.pk) is None


def test_opted_out_and_what_staff_may_read(user, other_user):
    assert not selectors.opted_out(user=user)
    DatasetOptOut.objects.create(user=user)
    assert selectors.opted_out(user=user) and not selectors.opted_out(user=other_user)
    older, private, newer = chat(user, title="older"), chat(user), chat(user, title="newer")
    rate(older.current_leaf, "up")
    rate(newer.current_leaf, "up")
    rate(chat(other_user).current_leaf, "up")
    assert selectors.readable_by_staff(user=user) == [newer, older]
    assert selectors.readable_by_staff(user=user, limit=1) == [newer]
    assert private not in selectors.readable_by_staff(user=user)
