"""Reads of tags, and what `tag:` finds in search: only the user's own tags' conversations."""

import pytest

from conversations import selectors as core_selectors
from conversations.chat import outbound
from conversations.models import Conversation, Message
from conversations.search import selectors as search
from conversations.tags import selectors, services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged(user, other_user):
    budget = Conversation.objects.create(owner=user, title="Budget 2027")
    factories.message_append(
        conversation=budget, role=Message.Role.USER, content="rent and groceries", parent=None
    )
    trip = Conversation.objects.create(owner=user, title="Trip")
    factories.message_append(
        conversation=trip, role=Message.Role.USER, content="groceries for camping", parent=None
    )
    untagged = Conversation.objects.create(owner=user, title="Budget notes")
    services.conversation_set_tags(conversation=budget, names_given=["work", "two words"])
    services.conversation_set_tags(conversation=trip, names_given=["holiday"])
    theirs = Conversation.objects.create(owner=other_user, title="Their budget")
    services.conversation_set_tags(conversation=theirs, names_given=["work", "secret"])
    return {"budget": budget, "trip": trip, "untagged": untagged, "theirs": theirs}


def found(user, query):
    return [hit["conversation"] for hit in search.conversation_search(user_id=user.pk, query=query)]


def test_tag_alone_lists_its_conversations(user, tagged):
    assert found(user, "tag:work") == [tagged["budget"].pk]
    assert found(user, "tag:WORK") == [tagged["budget"].pk]
    assert found(user, 'tag:"two words"') == [tagged["budget"].pk]
    assert found(user, "tag:holiday tag:work") == []  # Every tag named.


def test_tag_with_words_searches_titles_and_messages_within_it(user, tagged):
    assert found(user, "budget") == [tagged["untagged"].pk, tagged["budget"].pk]
    assert found(user, "tag:work budget") == [tagged["budget"].pk]
    assert set(found(user, "groceries")) == {tagged["budget"].pk, tagged["trip"].pk}
    assert found(user, "tag:holiday groceries") == [tagged["trip"].pk]
    assert found(user, "groceries tag:work") == [tagged["budget"].pk]


def test_someone_elses_tag_finds_nothing(user, other_user, tagged):
    assert found(user, "tag:secret") == []
    assert found(user, "tag:secret budget") == []
    assert found(user, "tag:nosuch") == []
    assert found(other_user, "tag:work") == [tagged["theirs"].pk]
    assert found(other_user, "tag:holiday") == []


def test_sidebar_items_carry_tags_in_one_query_for_the_list(
    user, tagged, django_assert_num_queries
):
    with django_assert_num_queries(2):  # The conversations, then all their tags.
        items = [outbound.conversation_data(c) for c in core_selectors.conversation_list(user=user)]
    by_title = {item["title"]: item["tags"] for item in items}
    assert by_title == {
        "Budget 2027": ["two words", "work"],
        "Trip": ["holiday"],
        "Budget notes": [],
    }


def test_tags_named_is_the_users_own_or_none(user, other_user, tagged):
    assert [t.name for t in selectors.tags_named(user_id=user.pk, raw_names=["Work"])] == ["work"]
    assert selectors.tags_named(user_id=user.pk, raw_names=["work", "secret"]) is None
    assert selectors.tags_named(user_id=user.pk, raw_names=["bad:name"]) is None
