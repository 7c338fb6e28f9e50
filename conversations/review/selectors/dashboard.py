"""Reads behind the dashboard: the daily rollups (never the message table), users'
ratings, and the few messages the live counts of active users look up.

Each function is one aggregate query over the days asked for, so the dashboard costs the
same at a million messages as at a thousand (bench/bench_dashboard.py).
"""

import datetime as dt

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from ...models import Message
from ...personas.models import Persona
from ..models import DailyActiveUser, DailyLatency, DailyStat, Feedback


def _rollup(since: dt.date, until: dt.date):
    return DailyStat.objects.filter(day__gte=since, day__lte=until)


def daily_totals(*, since: dt.date, until: dt.date) -> dict[dt.date, dict]:
    """Per day: messages (all but users' own), replies and errors, over every model."""
    return {
        row["day"]: row
        for row in _rollup(since, until)
        .values("day")
        .annotate(messages=Sum("messages"), replies=Sum("replies"), errors=Sum("errors"))
        .order_by()
    }


def daily_tokens_by_model(*, since: dt.date, until: dt.date) -> dict[str, dict[dt.date, int]]:
    """Per model, per day: prompt and completion tokens together."""
    tokens: dict[str, dict[dt.date, int]] = {}
    for row in (
        _rollup(since, until)
        .exclude(model="")
        .values("day", "model")
        .annotate(tokens=Sum(F("prompt_tokens") + F("completion_tokens")))
        .order_by()
    ):
        tokens.setdefault(row["model"], {})[row["day"]] = row["tokens"] or 0
    return tokens


def daily_active_users(*, since: dt.date, until: dt.date) -> dict[dt.date, dict]:
    """Per day: how many users were active, and how many messages they sent."""
    return {
        row["day"]: row
        for row in DailyActiveUser.objects.filter(day__gte=since, day__lte=until)
        .values("day")
        .annotate(users=Count("id"), messages=Sum("messages"))
        .order_by()
    }


def active_user_total(*, since: dt.date, until: dt.date) -> int:
    """How many different users were active on any of these days."""
    return (
        DailyActiveUser.objects.filter(day__gte=since, day__lte=until)
        .values("user_id")
        .distinct()
        .count()
    )


def daily_latency(*, since: dt.date, until: dt.date) -> dict[dt.date, list[tuple[int, int]]]:
    """Per day: the time-to-first-token histogram, as (bucket, count) pairs."""
    histograms: dict[dt.date, list[tuple[int, int]]] = {}
    for day, bucket, count in DailyLatency.objects.filter(
        day__gte=since, day__lte=until
    ).values_list("day", "bucket_ms", "count"):
        histograms.setdefault(day, []).append((bucket, count))
    return histograms


def daily_ratings(*, since: dt.date) -> dict[dt.date, dict]:
    """Per UTC day from `since`: users' ratings given, and how many were thumbs up."""
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    return {
        row["day"]: row
        for row in Feedback.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(up=Count("id", filter=Q(rating="up")), total=Count("id"))
        .order_by()
    }


OWN_PERSONAS = "Users' own personas"
DELETED_PERSONAS = "Deleted personas"
_OWN, _DELETED = -1, -2  # Group keys beside shared personas' ids (which are positive).


def top_personas(*, since: dt.date, until: dt.date, limit: int = 10) -> list[dict]:
    """The personas with the most replies: each shared one by name; users' own personas
    as one row, never by name (nor one by one, which would single out a user's), and
    deleted ones as another (they may have been someone's own). Two queries."""
    shared = Persona.objects.filter(pk=OuterRef("persona_id"), owner__isnull=True)
    own = Persona.objects.filter(pk=OuterRef("persona_id"), owner__isnull=False)
    top = list(
        _rollup(since, until)
        .filter(persona_id__gt=0)
        .annotate(
            group=Case(
                When(Exists(shared), then=F("persona_id")),
                When(Exists(own), then=Value(_OWN)),
                default=Value(_DELETED),
                output_field=BigIntegerField(),
            )
        )
        .values("group")
        .annotate(replies=Sum("replies"), messages=Sum("messages"))
        .order_by("-replies", "group")[:limit]
    )
    names = dict(
        Persona.objects.filter(pk__in=[p["group"] for p in top if p["group"] > 0]).values_list(
            "pk", "name"
        )
    )
    labels = {_OWN: OWN_PERSONAS, _DELETED: DELETED_PERSONAS}
    for row in top:
        group = row.pop("group")
        # A shared persona deleted since the first query is just deleted.
        row["name"] = names[group] if group in names else labels.get(group, DELETED_PERSONAS)
    return top


def top_models(*, since: dt.date, until: dt.date, limit: int = 10) -> list[dict]:
    """The models with the most replies, with their errors."""
    return list(
        _rollup(since, until)
        .exclude(model="")
        .values("model")
        .annotate(replies=Sum("replies"), errors=Sum("errors"))
        .order_by("-replies")[:limit]
    )


def first_reply_owners(*, firsts: list[tuple[dt.date, int, int]]) -> list[tuple[dt.date, int]]:
    """Of these (day, reply id, user message id), the (day, the user's id) of each reply
    that is the first to its user message (a regenerated one is not): two queries."""
    replies: dict[int, tuple[dt.date, int]] = {}  # User message -> the earliest reply here.
    for day, reply, parent in firsts:
        if parent not in replies or reply < replies[parent][1]:
            replies[parent] = (day, reply)
    owners = dict(
        Message.objects.filter(pk__in=replies, role=Message.Role.USER).values_list(
            "pk", "conversation__owner_id"
        )
    )
    earlier: dict[int, int] = {}  # User message -> its first reply's id.
    for parent, reply in Message.objects.filter(
        parent_id__in=owners, role=Message.Role.ASSISTANT
    ).values_list("parent_id", "pk"):
        earlier[parent] = min(reply, earlier.get(parent, reply))
    found = []
    for parent, owner in owners.items():
        day, reply = replies[parent]
        if earlier.get(parent, reply) >= reply:  # No reply came before this one.
            found.append((day, owner))
    return found
