"""Counters kept in rows: one statement adds to a row, or makes it, and writes nothing for
an owner that is gone."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from conversations import counters
from conversations.limits.models import DailyTokens

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 4)


def test_the_first_add_makes_the_row_and_later_ones_add_to_it(user, other_user):
    keys = {"user_id": user.pk, "day": DAY}
    assert counters.add(DailyTokens, keys, {"tokens": 5}) == 1
    assert counters.add(DailyTokens, keys, {"tokens": 7}) == 1
    counters.add(DailyTokens, {"user_id": other_user.pk, "day": DAY}, {"tokens": 1})
    counters.add(
        DailyTokens, {"user_id": user.pk, "day": DAY + dt.timedelta(days=1)}, {"tokens": 2}
    )
    assert sorted(DailyTokens.objects.values_list("user_id", "day", "tokens")) == sorted(
        [
            (user.pk, DAY, 12),
            (other_user.pk, DAY, 1),
            (user.pk, DAY + dt.timedelta(days=1), 2),
        ]
    )


def test_with_if_exists_nothing_is_written_for_an_owner_that_is_gone(user):
    owner = (get_user_model(), user.pk)
    keys = {"user_id": user.pk, "day": DAY}
    assert counters.add(DailyTokens, keys, {"tokens": 3}, if_exists=owner) == 1
    assert counters.add(DailyTokens, keys, {"tokens": 3}, if_exists=owner) == 1
    assert DailyTokens.objects.get().tokens == 6
    gone = user.pk
    user.delete()
    written = counters.add(
        DailyTokens, {"user_id": gone, "day": DAY}, {"tokens": 3}, if_exists=owner
    )
    assert written == 0 and not DailyTokens.objects.exists()
