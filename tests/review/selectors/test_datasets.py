"""What dataset exports may draw on, and what they read (review/selectors/datasets.py)."""

import datetime as dt

import pytest

from conversations.models import Conversation
from conversations.personas.models import Persona
from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import (
    DatasetOptOut,
)
from tests import factories
from tests.review.builders import chat, config, queries, rate, regenerated

pytestmark = pytest.mark.django_db


def test_conversations_of_users_who_opted_out_are_never_eligible(user, other_user):
    mine, _, also_mine = chat(user), chat(other_user), chat(user)
    DatasetOptOut.objects.create(user=other_user)
    everything = Conversation.objects.all()
    assert set(selectors.eligible_for_datasets(queryset=everything)) == {mine, also_mine}
    rows = selectors.dataset_rows(queryset=everything, limit=10)
    assert rows == [(mine.pk, user.pk), (also_mine.pk, user.pk)]
    assert selectors.dataset_rows(queryset=everything, limit=1) == [(mine.pk, user.pk)]
    assert selectors.dataset_opt_out_count() == 1


def test_dataset_conversations_by_days_model_and_persona(user):
    shared = Persona.objects.create(name="Shared", system_prompt="Hi.")
    Persona.objects.create(name="Own", owner=user, system_prompt="Hi.")
    old, new = chat(user, model="a"), chat(user, model="b")
    Conversation.objects.filter(pk=new.pk).update(persona=shared)
    day = dt.date(2024, 3, 10)
    at = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
    Conversation.objects.filter(pk=old.pk).update(
        created_at=at - dt.timedelta(days=5), updated_at=at - dt.timedelta(days=2)
    )
    Conversation.objects.filter(pk=new.pk).update(created_at=at, updated_at=at)
    assert set(selectors.dataset_conversations()) == {old, new}
    assert list(selectors.dataset_conversations(since=day)) == [new]
    assert list(selectors.dataset_conversations(until=day - dt.timedelta(days=1))) == [old]
    assert set(selectors.dataset_conversations(until=day)) == {old, new}  # The whole day.
    assert list(selectors.dataset_conversations(model="a")) == [old]
    assert list(selectors.dataset_conversations(persona=shared)) == [new]
    personas = set(selectors.dataset_personas())
    assert shared in personas and all(p.owner_id is None for p in personas)
    assert not Persona.objects.filter(owner=user).filter(pk__in=[p.pk for p in personas])


def test_replies_a_dataset_draws_on(boss, user):
    conversation, old, new = regenerated(user)
    other = chat(user, turns=2)
    scored = other.current_leaf
    liked = other.current_leaf.parent.parent
    rate(new, "up")
    rate(old, "down")
    rate(liked, "up")
    review.score_set(author=boss, message=scored, config=config("good example"), raw="yes")
    review.score_set(author=boss, message=old, config=config("good example"), raw="no")
    streaming = factories.message_append(
        conversation=conversation, role="assistant", parent=new.parent, status="streaming"
    )
    both = [conversation.pk, other.pk]
    assert selectors.good_replies(conversation_ids=both) == [new, liked, scored]
    ended = selectors.ended_replies(conversation_ids=[conversation.pk])
    assert ended == [old, new] and streaming not in ended
    ratings = selectors.ratings_by_message(message_ids=[old.pk, new.pk, scored.pk])
    assert ratings == {old.pk: "down", new.pk: "up"}
    found = selectors.messages_by_id(message_ids={old.parent_id, new.pk, 10**9})
    assert found == {old.parent_id: old.parent, new.pk: new}
    review.correction_add(author=boss, message=old, content="First.")
    newest = review.correction_add(author=boss, message=old, content="Second.")
    assert selectors.newest_corrections(message_ids=iter([old.pk, new.pk])) == {old.pk: newest}


def test_annotations_a_dataset_draws_on(boss, user):
    conversation, elsewhere = chat(user), chat(user)
    answer = conversation.current_leaf
    for c in (conversation, elsewhere):
        rate(c.current_leaf, "down")
        review.score_set(author=boss, message=c.current_leaf, config=config("helpfulness"), raw="2")
        review.note_add(author=boss, conversation=c, message=None, text="Off.")
        review.correction_add(author=boss, message=c.current_leaf, content="Better.")
    ids = [conversation.pk]
    for reader in (
        selectors.scores_in,
        selectors.notes_in,
        selectors.corrections_in,
        selectors.feedback_in,
    ):
        rows, count = queries(lambda reader=reader: list(reader(conversation_ids=ids)))
        assert [r.conversation_id for r in rows] == [conversation.pk] and count == 1
    score = selectors.scores_in(conversation_ids=ids).get()
    assert queries(lambda: (score.config.name, score.author.username, score.message.pk)) == (
        ("helpfulness", "boss", answer.pk),
        0,
    )
