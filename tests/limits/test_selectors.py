"""Reads of the limits for staff's pages (conversations/limits/selectors.py): tokens over
a range of days, and the quota that applies to each user, as a turn's check finds it."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from conversations.limits import selectors
from conversations.limits.models import DailyTokens, TokenQuota

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 10)


def test_tokens_are_summed_over_the_days_asked_both_ends_counted(user, other_user):
    for offset, tokens in ((-1, 5), (0, 10), (3, 20), (4, 40)):
        DailyTokens.objects.create(user=user, day=DAY + dt.timedelta(days=offset), tokens=tokens)
    used = selectors.tokens_used(
        user_ids=[user.pk, other_user.pk], since=DAY, until=DAY + dt.timedelta(days=3)
    )
    assert used == {user.pk: 30}


def test_a_users_own_quota_wins_else_their_groups_most_generous_else_the_sites(
    user, other_user, django_user_model, settings
):
    settings.CHAT_DAILY_TOKENS = 1000
    third = django_user_model.objects.create_user(username="third", password="pw-third-123")
    small, large, open_ = (Group.objects.create(name=n) for n in ("small", "large", "open"))
    TokenQuota.objects.create(group=small, daily_tokens=100)
    TokenQuota.objects.create(group=large, daily_tokens=5000)
    TokenQuota.objects.create(group=open_, daily_tokens=None)
    TokenQuota.objects.create(user=user, daily_tokens=7)
    user.groups.add(large)
    other_user.groups.add(small, large)
    fourth = django_user_model.objects.create_user(username="fourth", password="pw-fourth-123")
    fourth.groups.add(small, open_)
    quotas = selectors.daily_quotas(user_ids=[user.pk, other_user.pk, third.pk, fourth.pk])
    assert quotas == {user.pk: 7, other_user.pk: 5000, third.pk: 1000, fourth.pk: None}
