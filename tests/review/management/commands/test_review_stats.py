"""`manage.py review_stats` recomputes the dashboard's daily counts from the messages."""

import pytest
from django.core.management import call_command

from conversations.review import stats
from conversations.review.models import DailyActiveUser, DailyStat
from tests.review.builders import chat

pytestmark = pytest.mark.django_db


def counts() -> tuple[list, list]:
    return (
        sorted(DailyStat.objects.values_list("day", "model", "messages", "replies")),
        sorted(DailyActiveUser.objects.values_list("day", "user_id", "messages")),
    )


def test_the_counts_are_rebuilt_as_they_were_kept(user, other_user, capsys):
    chat(user, turns=2)
    chat(other_user)
    stats.flush()
    kept = counts()
    assert kept[0] and kept[1]
    DailyStat.objects.all().delete()
    DailyActiveUser.objects.update(messages=99)
    call_command("review_stats")
    assert counts() == kept
    assert capsys.readouterr().out == "Rebuilt the dashboard's daily counts.\n"
