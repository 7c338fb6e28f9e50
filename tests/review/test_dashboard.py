"""The dashboard: counts kept as messages are saved, the same as a rebuild from the
messages, drawn as server-side SVG in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.personas.models import Persona
from conversations.review import stats
from conversations.review.models import DailyActiveUser, DailyLatency, DailyStat
from tests import factories
from tests.review.builders import chat, rate, reply

pytestmark = pytest.mark.django_db


def rollups() -> tuple[list, list, list]:
    stats.flush()
    return (
        sorted(
            DailyStat.objects.filter(messages__gt=0).values_list(
                "day", "model", "persona_id", "messages", "replies", "errors",
                "prompt_tokens", "completion_tokens",
            )
        ),
        sorted(DailyActiveUser.objects.values_list("day", "user_id", "messages")),
        sorted(DailyLatency.objects.values_list("day", "bucket_ms", "count")),
    )  # fmt: skip


def test_live_counts_match_a_rebuild_from_the_messages(user, other_user):
    first = chat(user, turns=3)
    chat(other_user, turns=2)
    placeholder = factories.message_append(
        conversation=first,
        role="assistant",
        parent=first.current_leaf,
        status="streaming",
        model="m",
        request={"sent": []},
    )
    factories.message_finish(
        message_id=placeholder.pk, status="error", content="", first_token_ms=2345
    )
    live = rollups()
    row = next(row for row in live[0] if row[1] == "m")
    replies, errors, prompt, completion = row[4:]
    assert (replies, errors, prompt, completion) == (6, 1, 50, 25)
    assert [(u, n) for _, u, n in live[1]] == [(user.pk, 3), (other_user.pk, 2)]
    assert sorted((b, c) for _, b, c in live[2]) == [(120, 5), (2300, 1)]
    stats.rebuild()
    assert rollups() == live


def test_a_reply_regenerated_before_the_counts_are_written_counts_its_user_once(user):
    conversation = chat(user)
    first = conversation.current_leaf
    reply(conversation, first.parent, "again", sent=[first.parent_id])  # The same flush.
    live = rollups()
    assert [(u, n) for _, u, n in live[1]] == [(user.pk, 1)]
    stats.rebuild()
    assert rollups() == live


def test_percentiles_from_the_histogram():
    histogram = [(stats.bucket_of(ms), 1) for ms in range(10, 1010, 10)]  # 10 … 1000 ms
    assert stats.percentile(histogram, 0.5) == 510
    assert stats.percentile(histogram, 0.95) == 960
    assert stats.percentile([], 0.5) is None
    assert stats.bucket_of(59_999) == 59_000 and stats.bucket_of(600_000) == 60_000


def test_dashboard_draws_charts_in_a_fixed_number_of_queries(client, reviewer, user, other_user):
    counts = []
    for owner, turns in ((user, 1), (other_user, 25)):
        conversation = chat(owner, turns=turns)
        rate(conversation.current_leaf, "up")
        stats.flush()  # The counts are written; the dashboard's own flush finds none.
        client.force_login(reviewer)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/admin/review/dashboard/")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 20
    page = response.content.decode()
    for title in (
        "Messages per day",
        "Active users per day",
        "Tokens per day, by model",
        "Error rate per day",
        "Time to first token per day",
        "Thumbs-up share per day",
        "Busiest models",
        "Busiest personas",
    ):
        assert title in page
    assert page.count("<svg viewBox") >= 6 and 'role="img"' in page
    assert "<script" not in page.split('id="content-main"')[1].split("</main>")[0]
    assert ">100% of 2<" in page  # Thumbs up share.
    assert client.get("/admin/review/dashboard/", {"days": "7"}).status_code == 200
    assert client.get("/admin/review/dashboard/", {"days": "bogus"}).status_code == 200


def test_busiest_personas_name_shared_personas_only(client, reviewer, user):
    shared = Persona.objects.create(name="Travel agent", system_prompt="Plan trips.")
    private = Persona.objects.create(
        name="Coach for my gambling debts", system_prompt="Be kind.", owner=user
    )
    for persona in (shared, private):
        conversation = chat(user)
        conversation.persona = persona
        conversation.save()
    stats.rebuild()  # Counts each reply under its conversation's persona.
    assert set(DailyStat.objects.filter(persona_id__gt=0).values_list("persona_id", flat=True)) == {
        shared.pk,
        private.pk,
    }
    client.force_login(reviewer)
    page = client.get("/admin/review/dashboard/").content.decode()
    busiest = page.split("Busiest personas")[1].split("</figure>")[0]
    assert "Travel agent" in busiest and "Users&#x27; own personas" in busiest
    assert "gambling" not in page
