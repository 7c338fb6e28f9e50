"""What the transcript view shows beside each message (review/selectors/transcript.py):
the versions shown last, the review work on each message, the queue and score configs."""

import pytest

from conversations import services
from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import (
    QueueItem,
)
from tests.review.builders import chat, config, queries, rate, regenerated

pytestmark = pytest.mark.django_db


def test_latest_children_follow_the_version_shown_last(user):
    conversation, old, new = regenerated(user)
    assert selectors.latest_children(conversation=conversation) == {old.parent_id: new.pk}
    services.conversation_switch(conversation=conversation, leaf_id=old.pk)
    children, count = queries(lambda: selectors.latest_children(conversation=conversation))
    assert children == {old.parent_id: old.pk} and count == 1


def test_review_work_on_messages_by_message(boss, reviewer, user):
    conversation, old, new = regenerated(user)
    rate(new, "up")
    helpfulness, hallucination = config("helpfulness"), config("hallucination")
    review.score_set(author=reviewer, message=new, config=helpfulness, raw="4")
    review.score_set(author=boss, message=new, config=helpfulness, raw="5")
    review.score_set(author=boss, message=new, config=hallucination, raw="no")
    whole = review.note_add(author=boss, conversation=conversation, message=None, text="All.")
    on_old = review.note_add(author=boss, conversation=conversation, message=old, text="Old.")
    first = review.correction_add(author=boss, message=old, content="One.")
    second = review.correction_add(author=reviewer, message=old, content="Two.")
    ids = [old.pk, new.pk]

    feedback = selectors.feedback_for_messages(message_ids=ids)
    assert list(feedback) == [new.pk] and feedback[new.pk].rating == "up"
    scores, count = queries(lambda: selectors.scores_for_messages(message_ids=ids))
    assert count == 1 and list(scores) == [new.pk]
    assert [(s.config.name, s.author.username) for s in scores[new.pk]] == [
        ("hallucination", "boss"),
        ("helpfulness", "boss"),
        ("helpfulness", "rita"),
    ]
    assert selectors.notes_for_conversation(conversation=conversation) == {
        None: [whole],
        old.pk: [on_old],
    }
    corrections, count = queries(lambda: selectors.corrections_for_messages(message_ids=ids))
    assert corrections == {old.pk: [first, second]} and count == 1
    assert queries(lambda: corrections[old.pk][1].author.username)[1] == 0


def test_queue_items_and_score_configs_for_the_transcript(reviewer, user):
    conversation = chat(user)
    assert selectors.queue_items_for_conversation(conversation=conversation) == []
    first = review.queue_add(actor=reviewer, conversation=conversation)
    second = review.queue_auto(
        conversation=conversation, message=None, reason=QueueItem.Reason.REPORT
    )
    review.queue_assign(actor=reviewer, items=[second], assignee=reviewer)
    items = selectors.queue_items_for_conversation(conversation=conversation)
    assert items == [second, first]  # Newest first.
    assert queries(lambda: (items[0].assignee.username, items[1].created_by.username))[1] == 0
    retired = config("hallucination")
    retired.active = False
    retired.save()
    names = [c.name for c in selectors.score_configs_active()]
    assert names == ["good example", "helpfulness"]
    assert selectors.score_config_active(config_id=config("helpfulness").pk).name == "helpfulness"
    assert selectors.score_config_active(config_id=retired.pk) is None
    assert selectors.score_config_active(config_id=None) is None
