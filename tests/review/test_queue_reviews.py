"""The review queue with several reviewers per item (review/admin.py): each row's progress,
the "Reviews" and "Reviewers disagree" filters, in queries that do not grow with the page."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.review import services as review
from conversations.review.models import QueueItem, ScoreConfig
from tests.review.builders import chat, config

pytestmark = pytest.mark.django_db
QUEUE = "/admin/review/queueitem/"


def queued(owner, n: int) -> list[QueueItem]:
    """n items, each on the reply of a conversation of its own."""
    found = []
    for _ in range(n):
        conversation = chat(owner)
        found.append(
            review.queue_auto(
                conversation=conversation, message=conversation.current_leaf, reason="thumbs_down"
            )
        )
    return found


def score(author, item: QueueItem, name: str, raw: str) -> None:
    review.score_set(author=author, message=item.message, config=config(name), raw=raw)


def shown(response) -> dict[int, str]:
    """Each row's item id and what its Reviews cell says."""
    page = response.content.decode()
    cells = re.findall(
        r'name="_selected_action" value="(\d+)".*?class="field-reviews">([^<]*)<', page, re.S
    )
    return {int(pk): text for pk, text in cells}


def test_progress_column_and_filter(client, reviewer, boss, user):
    first, second, third = queued(user, 3)
    client.force_login(reviewer)
    response = client.get(QUEUE)
    assert set(shown(response).values()) == {"\N{EN DASH}"}  # No config asks for more.
    assert "?reviews=needed" not in response.content.decode()  # Nor is the filter offered.
    ScoreConfig.objects.filter(name="helpfulness").update(reviews_required=2)
    score(reviewer, first, "helpfulness", "4")
    score(boss, first, "helpfulness", "5")
    score(reviewer, second, "helpfulness", "4")
    response = client.get(QUEUE)
    assert shown(response) == {
        first.pk: "2/2 reviews",
        second.pk: "1/2 reviews",
        third.pk: "0/2 reviews",
    }
    page = response.content.decode()
    assert "?reviews=needed" in page and "?reviews=complete" in page
    assert set(shown(client.get(QUEUE, {"reviews": "needed"}))) == {second.pk, third.pk}
    assert set(shown(client.get(QUEUE, {"reviews": "complete"}))) == {first.pk}


def test_disagreement_filter(client, reviewer, boss, user):
    calm, split, alone = queued(user, 3)
    for author, raw in ((reviewer, "yes"), (boss, "yes")):
        score(author, calm, "hallucination", raw)
    for author, raw in ((reviewer, "yes"), (boss, "no")):
        score(author, split, "hallucination", raw)
    score(reviewer, alone, "helpfulness", "1")
    client.force_login(reviewer)
    response = client.get(QUEUE)
    page = response.content.decode()
    helpfulness, hallucination = config("helpfulness"), config("hallucination")
    assert "?disagree=any" in page and f"?disagree={hallucination.pk}" in page
    assert set(shown(client.get(QUEUE, {"disagree": "any"}))) == {split.pk}
    assert set(shown(client.get(QUEUE, {"disagree": hallucination.pk}))) == {split.pk}
    assert set(shown(client.get(QUEUE, {"disagree": helpfulness.pk}))) == set()
    score(boss, alone, "helpfulness", "5")
    assert set(shown(client.get(QUEUE, {"disagree": helpfulness.pk}))) == {alone.pk}
    assert set(shown(client.get(QUEUE, {"disagree": "bogus"}))) == {calm.pk, split.pk, alone.pk}


def test_the_queue_page_costs_the_same_queries_for_3_or_30_items(client, reviewer, boss, user):
    ScoreConfig.objects.filter(name__in=["helpfulness", "hallucination"]).update(reviews_required=3)
    client.force_login(reviewer)
    counts = []
    for n in (3, 27):
        for item in queued(user, n):
            score(reviewer, item, "helpfulness", "3")
            score(boss, item, "hallucination", "no")
        for params in ({}, {"reviews": "needed", "disagree": "any"}):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(QUEUE, params)
            assert response.status_code == 200
            counts.append(len(ctx.captured_queries))
        assert len(shown(response)) == 0  # Nobody disagrees yet.
    assert counts[0] == counts[2] and counts[1] == counts[3]
    assert set(shown(client.get(QUEUE)).values()) == {"1/3 reviews"}


def test_reviews_required_is_bounded():
    helpfulness = config("helpfulness")
    for wrong in (0, 11):
        helpfulness.reviews_required = wrong
        with pytest.raises(ValidationError):
            helpfulness.full_clean()
    helpfulness.reviews_required = 10
    helpfulness.full_clean()
