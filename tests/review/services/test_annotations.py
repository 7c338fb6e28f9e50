"""Reviewers' scores, notes and corrections (review/services/annotations.py): what they
change, what they leave alone, and what the audit log records."""

import pytest

from conversations.review import services as review
from conversations.review.models import (
    AuditEntry,
    Correction,
    QueueItem,
    ReviewNote,
    Score,
    ScoreConfig,
)
from tests.review.builders import chat, config

pytestmark = pytest.mark.django_db

Reason, Status, Action = QueueItem.Reason, QueueItem.Status, AuditEntry.Action


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
