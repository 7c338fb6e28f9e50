"""The dashboard's daily rollups and ratings (review/selectors/dashboard.py)."""

import datetime as dt

import pytest

from conversations.personas.models import Persona
from conversations.review import selectors
from conversations.review.models import (
    DailyActiveUser,
    DailyLatency,
    DailyStat,
    Feedback,
)
from tests.review.builders import chat, queries, rate, regenerated

pytestmark = pytest.mark.django_db


DAY = dt.date(2024, 5, 1)


def test_rollups_per_day_and_per_model():
    later = DAY + dt.timedelta(days=1)
    for day, model, persona, replies, errors in (
        (DAY, "a", 0, 3, 1),
        (DAY, "b", 0, 1, 0),
        (later, "a", 0, 2, 0),
        (DAY + dt.timedelta(days=9), "a", 0, 7, 7),  # Outside the days asked for.
    ):
        DailyStat.objects.create(
            day=day,
            model=model,
            persona_id=persona,
            messages=replies + 1,
            replies=replies,
            errors=errors,
            prompt_tokens=10 * replies,
            completion_tokens=replies,
        )
    totals = selectors.daily_totals(since=DAY, until=later)
    assert {d: (r["messages"], r["replies"], r["errors"]) for d, r in totals.items()} == {
        DAY: (6, 4, 1),
        later: (3, 2, 0),
    }
    tokens = selectors.daily_tokens_by_model(since=DAY, until=later)
    assert tokens == {"a": {DAY: 33, later: 22}, "b": {DAY: 11}}
    top = selectors.top_models(since=DAY, until=later)
    assert [(m["model"], m["replies"], m["errors"]) for m in top] == [("a", 5, 1), ("b", 1, 0)]
    assert len(selectors.top_models(since=DAY, until=later, limit=1)) == 1


def test_top_personas_name_shared_ones_only(user, other_user):
    shared = Persona.objects.create(name="Helper", system_prompt="Hi.")
    mine = Persona.objects.create(name="My divorce lawyer", system_prompt="Hi.", owner=user)
    theirs = Persona.objects.create(name="Therapist Tom", system_prompt="Hi.", owner=other_user)
    for model, persona_id, replies in [
        ("a", shared.pk, 2),
        ("a", mine.pk, 4),
        ("b", mine.pk, 1),
        ("a", theirs.pk, 3),
        ("a", 999_999, 5),  # Deleted: maybe someone's own.
        ("b", 0, 9),  # No persona.
    ]:
        DailyStat.objects.create(
            day=DAY, model=model, persona_id=persona_id, replies=replies, messages=replies
        )
    top, count = queries(lambda: selectors.top_personas(since=DAY, until=DAY))
    assert [(p["name"], p["replies"], p["messages"]) for p in top] == [
        ("Users' own personas", 8, 8),
        ("Deleted personas", 5, 5),
        ("Helper", 2, 2),
    ]
    assert count == 2
    assert [p["name"] for p in selectors.top_personas(since=DAY, until=DAY, limit=1)] == [
        "Users' own personas"
    ]


def test_active_users_latency_and_ratings(user, other_user):
    later = DAY + dt.timedelta(days=1)
    DailyActiveUser.objects.create(day=DAY, user_id=user.pk, messages=3)
    DailyActiveUser.objects.create(day=DAY, user_id=other_user.pk, messages=1)
    DailyActiveUser.objects.create(day=later, user_id=user.pk, messages=2)
    active = selectors.daily_active_users(since=DAY, until=later)
    assert {d: (r["users"], r["messages"]) for d, r in active.items()} == {
        DAY: (2, 4),
        later: (1, 2),
    }
    assert selectors.active_user_total(since=DAY, until=later) == 2
    assert selectors.active_user_total(since=later, until=later) == 1
    DailyLatency.objects.create(day=DAY, bucket_ms=120, count=4)
    DailyLatency.objects.create(day=DAY, bucket_ms=2300, count=1)
    latency = selectors.daily_latency(since=DAY, until=later)
    assert {d: sorted(h) for d, h in latency.items()} == {DAY: [(120, 4), (2300, 1)]}
    conversation = chat(user, turns=2)
    rate(conversation.current_leaf, "up")
    rate(conversation.current_leaf.parent.parent, "down")
    earlier = chat(user)
    rate(earlier.current_leaf, "up")
    Feedback.objects.filter(message=earlier.current_leaf).update(
        created_at=dt.datetime.combine(DAY, dt.time(23, 59), tzinfo=dt.UTC)
    )
    today = dt.datetime.now(dt.UTC).date()
    ratings = selectors.daily_ratings(since=DAY)
    assert {d: (r["up"], r["total"]) for d, r in ratings.items()} == {DAY: (1, 1), today: (1, 2)}
    assert list(selectors.daily_ratings(since=today)) == [today]


def test_first_reply_owners_count_a_message_once(user, other_user):
    _, old, new = regenerated(user)
    theirs = chat(other_user).current_leaf
    firsts = [(DAY, old.pk, old.parent_id), (DAY, theirs.pk, theirs.parent_id)]
    found, count = queries(lambda: selectors.first_reply_owners(firsts=firsts))
    assert sorted(found) == sorted([(DAY, user.pk), (DAY, other_user.pk)]) and count == 2
    # A version made later is not the first reply: its user was counted already.
    assert selectors.first_reply_owners(firsts=[(DAY, new.pk, new.parent_id)]) == []
    # Both versions ended before the counts were written: the first still counts.
    both = [(DAY, old.pk, old.parent_id), (DAY, new.pk, new.parent_id)]
    assert selectors.first_reply_owners(firsts=both) == [(DAY, user.pk)]
