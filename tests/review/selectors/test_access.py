"""Which conversations staff may find and open (review/selectors/access.py), straight
against the database."""

import pytest

from conversations.models import Conversation
from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import (
    QueueItem,
)
from tests.review.builders import chat, queries, rate

pytestmark = pytest.mark.django_db


def test_reviewers_find_only_rated_or_queued_conversations(reviewer, boss, staff, user):
    rated, queued, private = chat(user), chat(user), chat(user)
    rate(rated.current_leaf, "up")
    review.queue_auto(conversation=queued, message=None, reason=QueueItem.Reason.REPORT)
    reviewable = set(Conversation.objects.filter(selectors.reviewable_q()))
    assert reviewable == {rated, queued}
    assert set(selectors.conversations_for(user=reviewer)) == {rated, queued}
    assert set(selectors.conversations_for(user=boss)) == {rated, queued, private}
    assert not selectors.conversations_for(user=staff).exists()
    narrowed = Conversation.objects.filter(pk=rated.pk)
    assert list(selectors.conversations_for(user=reviewer, queryset=narrowed)) == [rated]


def test_a_conversation_opens_for_review_as_its_rights_allow(reviewer, boss, staff, user):
    rated, private = chat(user), chat(user)
    rate(rated.current_leaf, "down")
    found, reviewable = selectors.conversation_for_review(user=reviewer, conversation_id=rated.pk)
    assert (found, reviewable) == (rated, True)
    assert found.owner == user  # Read with the conversation, for the page's header.
    closed = (None, False)
    assert selectors.conversation_for_review(user=reviewer, conversation_id=private.pk) == closed
    assert selectors.conversation_for_review(user=boss, conversation_id=private.pk) == (
        private,
        False,
    )
    assert selectors.conversation_for_review(user=staff, conversation_id=rated.pk) == closed
    assert selectors.conversation_for_review(user=boss, conversation_id=10**9) == closed


def test_message_count_and_a_message_with_its_conversation(user):
    first, second = chat(user, turns=2), chat(user, turns=1)
    assert selectors.message_count(conversations=[first]) == 4
    assert selectors.message_count(conversations=[first, second]) == 6
    assert selectors.message_count(conversations=[]) == 0
    leaf = first.current_leaf
    message, count = queries(lambda: selectors.message_with_conversation(message_id=leaf.pk))
    assert message == leaf and count == 1
    assert queries(lambda: message.conversation.owner_id)[1] == 0
    assert selectors.message_with_conversation(message_id=str(leaf.pk)) == leaf
    assert selectors.message_with_conversation(message_id=10**9) is None
