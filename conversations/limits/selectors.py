"""Reads of the limits for staff's pages: tokens used over days, and the quotas that apply."""

import datetime as dt

from django.conf import settings
from django.db.models import Sum

from .models import DailyTokens, TokenQuota


def tokens_used(*, user_ids: list[int], since: dt.date, until: dt.date) -> dict[int, int]:
    """Tokens each user's replies used from `since` to `until` (UTC days, both counted),
    as written so far (a process adds its counts about once a second)."""
    rows = (
        DailyTokens.objects.filter(user_id__in=user_ids, day__gte=since, day__lte=until)
        .values("user_id")
        .annotate(total=Sum("tokens"))
        .values_list("user_id", "total")
    )
    return {user_id: total or 0 for user_id, total in rows}


def daily_quotas(*, user_ids: list[int]) -> dict[int, int | None]:
    """The daily quota each user has (None: no limit), as turn_limits.admit finds it: their
    own, else their groups' most generous, else CHAT_DAILY_TOKENS. Two queries."""
    own = dict(
        TokenQuota.objects.filter(user_id__in=user_ids).values_list("user_id", "daily_tokens")
    )
    by_group: dict[int, list[int | None]] = {}
    for user_id, tokens in TokenQuota.objects.filter(
        group__user__in=user_ids, group__isnull=False
    ).values_list("group__user", "daily_tokens"):
        by_group.setdefault(user_id, []).append(tokens)
    default = settings.CHAT_DAILY_TOKENS or None
    quotas: dict[int, int | None] = {}
    for user_id in user_ids:
        if user_id in own:
            quotas[user_id] = own[user_id]
        elif user_id in by_group:
            found = by_group[user_id]
            quotas[user_id] = None if None in found else max(found)
        else:
            quotas[user_id] = default
    return quotas
