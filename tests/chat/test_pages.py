"""What a socket is shown of a conversation: only its owner's, the newest page of the
branch (its versions and the owner's ratings beside it) in a few queries whatever its
length, and a page bounded in bytes but never without its newest message."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.chat import pages
from conversations.errors import TurnRefused
from tests import factories
from tests.review.builders import rate

pytestmark = pytest.mark.django_db


def conversation_of(owner, *, pairs: int, size: int = 10):
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title="T")
    parent = None
    for i in range(pairs):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"q{i} " + "x" * size, parent=parent
        )
        parent = factories.message_append(
            conversation=conversation,
            role="assistant",
            content=f"a{i} " + "y" * size,
            parent=parent,
        )
    conversation.refresh_from_db()
    return conversation


def test_only_the_owner_sees_a_conversation_and_its_messages(user, other_user):
    mine, theirs = conversation_of(user, pairs=1), conversation_of(other_user, pairs=1)
    assert pages.owned_conversation(user, mine.pk) == mine
    refusals = []
    for conversation_id in (theirs.pk, theirs.pk + 1000):
        with pytest.raises(TurnRefused) as refused:
            pages.owned_conversation(user, conversation_id)
        refusals.append((refused.value.code, refused.value.message))
    assert refusals[0] == refusals[1] == ("not_found", "That conversation does not exist.")
    with pytest.raises(TurnRefused):
        pages.owned_message(mine, theirs.current_leaf_id)


def test_the_newest_page_with_versions_and_ratings_in_a_few_queries(user, settings):
    settings.CHAT_PAGE_SIZE = 6
    counts = []
    for pairs in (4, 40):
        conversation = conversation_of(user, pairs=pairs)
        with CaptureQueriesContext(connection) as queries:
            rows = pages.page_rows(conversation, leaf_id=None)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert [m.content.split()[0] for m in rows.branch] == ["q37", "a37", "q38", "a38", "q39", "a39"]
    assert rows.has_more
    newest = rows.branch[-1]
    rate(newest, "up")
    rows = pages.page_rows(conversation, leaf_id=None)
    assert rows.siblings[newest.pk] == [newest.pk]
    assert rows.extras["feedback"][newest.pk]["rating"] == "up"


def test_a_page_stops_at_its_bytes_but_keeps_the_newest_message(user, settings):
    settings.CHAT_PAGE_BYTES = 9000
    conversation = conversation_of(user, pairs=3, size=2000)
    page, has_more = pages.message_page(conversation, leaf_id=None)
    # A reply of 2 kB (its text and HTML) and its question fit; the reply before does not.
    assert [m["role"] for m in page] == ["user", "assistant"] and has_more
    huge = conversation_of(user, pairs=1, size=50_000)
    page, has_more = pages.message_page(huge, leaf_id=None)
    assert [m["id"] for m in page] == [huge.current_leaf_id] and has_more
