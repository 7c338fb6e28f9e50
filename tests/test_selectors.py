"""Reads (conversations/selectors.py): scoped to their user, in one query where it matters,
and typed messages for requests."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import model_input, selectors, services
from conversations.llm import ChatMessage, ToolCall
from conversations.models import Conversation, Message
from conversations.search import selectors as search
from tests import factories

pytestmark = pytest.mark.django_db


def chain(owner, turns: int, title: str = "T") -> Conversation:
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title=title)
    parent = None
    for i in range(turns):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"q{i}", parent=parent
        )
        parent = factories.message_append(
            conversation=conversation, role="assistant", content=f"a{i}", parent=parent
        )
    return conversation


def test_someone_elses_conversation_is_not_found(user, other_user):
    theirs = chain(other_user, 1)
    assert selectors.conversation_get(user=user, conversation_id=theirs.pk) is None
    assert not selectors.conversation_exists(user=user, conversation_id=theirs.pk)
    assert selectors.conversation_get(user=other_user, conversation_id=theirs.pk) == theirs


def test_a_branch_is_one_query_and_ends_where_asked(user):
    conversation = chain(user, 30)
    with CaptureQueriesContext(connection) as ctx:
        branch = selectors.message_branch(conversation=conversation)
    assert len(ctx.captured_queries) == 1
    assert [m.content for m in branch[:2]] == ["q0", "a0"] and len(branch) == 60
    last_four = selectors.message_branch(conversation=conversation, limit=4)
    assert [m.content for m in last_four] == ["q28", "a28", "q29", "a29"]


def test_versions_and_the_leaf_shown_last(user):
    conversation = chain(user, 1)
    question = conversation.messages.get(role="user")
    first = conversation.messages.get(role="assistant")
    second = factories.message_append(
        conversation=conversation, role="assistant", content="a0 v2", parent=question
    )
    siblings = selectors.message_siblings(conversation=conversation, messages=[first, second])
    assert siblings[first.pk] == siblings[second.pk] == [first.pk, second.pk]
    Message.objects.filter(pk=first.pk).update(selected_at=timezone.now() + timedelta(seconds=5))
    leaf = selectors.message_latest_leaf(conversation=conversation, message_id=question.pk)
    assert leaf == first.pk


def test_search_finds_words_in_titles_and_messages_of_the_user_only(user, other_user):
    mine = chain(user, 1, title="Garden")
    factories.message_append(
        conversation=mine, role="user", content="when to plant tomatoes", parent=None
    )
    theirs = chain(other_user, 0, title="tomatoes too")
    hits = search.conversation_search(user_id=user.pk, query="tomato")
    assert [h["conversation"] for h in hits] == [mine.pk]
    assert "tomatoes" in hits[0]["snippet"]
    assert (
        search.conversation_search(user_id=other_user.pk, query="tomato")[0]["conversation"]
        == theirs.pk
    )
    assert search.conversation_search(user_id=user.pk, query="   ") == []


def test_saved_messages_become_typed_request_messages(user):
    conversation = chain(user, 0)
    call = factories.message_append(conversation=conversation, role="assistant", parent=None)
    Message.objects.filter(pk=call.pk).update(
        tool_calls=[{"id": "c1", "name": "calculator", "arguments": "{}"}], reasoning="hmm"
    )
    call.refresh_from_db()
    assert model_input.chat_message(call) == ChatMessage(
        "assistant", "", tool_calls=(ToolCall("c1", "calculator", "{}"),)
    )
    failed = factories.message_append(
        conversation=conversation, role="assistant", parent=call, status=Message.Status.ERROR
    )
    assert model_input.chat_message(failed) is None  # A reply that said nothing is not sent.
    said = factories.message_append(
        conversation=conversation, role="assistant", content="Answer", parent=call
    )
    Message.objects.filter(pk=said.pk).update(reasoning="secret thoughts")
    said.refresh_from_db()
    assert model_input.chat_message(said) == ChatMessage("assistant", "Answer")  # No reasoning.


def test_a_turn_runs_while_its_lease_holds(user):
    conversation = chain(user, 0)
    assert not selectors.conversation_turn_running(conversation=conversation)
    conversation.turn_owner = "p1"
    conversation.turn_expires_at = timezone.now() + timedelta(seconds=10)
    assert selectors.conversation_turn_running(conversation=conversation)
    conversation.turn_expires_at = timezone.now() - timedelta(seconds=1)
    assert not selectors.conversation_turn_running(conversation=conversation)


def test_within_days_spans_whole_utc_days_and_a_missing_bound_is_none():
    import datetime as dt

    day = dt.date(2026, 3, 4)
    start = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    assert selectors.within_days("at", since=day, until=day) == Q(at__gte=start) & Q(
        at__lt=start + dt.timedelta(days=1)
    )
    assert selectors.within_days("at", since=None, until=None) == Q()
    assert selectors.within_days("at", since=day, until=None) == Q(at__gte=start)
