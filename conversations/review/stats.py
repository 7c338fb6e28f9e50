"""Daily rollups for the dashboard: counted as messages are saved, rebuilt from them at will.

Counting as we go keeps the dashboard's cost independent of how many messages there are:
it reads a month of rollup rows, never the message table. `rebuild` recomputes every
rollup from the messages in a few aggregate queries (the 0003 migration and
`manage.py review_stats --rebuild` use it).

Counts are added up in memory as replies end and written by `flush`: every few seconds
by the server process (chat/runtime.py), and before the dashboard reads them. Writing
them with each reply cost four statements on the path every reply's end takes.

This is the rollups' service module: the one place that writes DailyStat, DailyActiveUser
and DailyLatency. It stands apart from services/ because its writes are not made a call
at a time but held in memory and flushed, and because adding to a counter in one
statement needs raw SQL (`_bump`: INSERT … ON CONFLICT DO UPDATE). What it reads to
count live is in selectors/dashboard.py, as are the dashboard's reads of the rollups.
`rebuild` alone reads here: it aggregates the messages straight into new rollup rows, in
one transaction, with a migration's historical models when the migration calls it, so
those reads are part of the write.
"""

import datetime as dt
import math
import threading

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from .. import counters
from ..models import Message
from . import selectors
from .models import DailyActiveUser, DailyLatency, DailyStat


def bucket_of(ms: int) -> int:
    """A time's histogram bucket (its lower bound): 10 ms wide below 1 s, 100 ms below
    10 s, 1 s below a minute, then one bucket for a minute or more."""
    if ms < 1_000:
        return ms // 10 * 10
    if ms < 10_000:
        return ms // 100 * 100
    if ms < 60_000:
        return ms // 1_000 * 1_000
    return 60_000


def bucket_width(bucket: int) -> int:
    if bucket < 1_000:
        return 10
    if bucket < 10_000:
        return 100
    if bucket < 60_000:
        return 1_000
    return 0


_lock = threading.Lock()
_pending: dict[tuple, dict] = {}  # (model, key items) -> increments not yet written.
_first_replies: list[tuple[dt.date, int, int]] = []  # (day, reply id, user message id).


def _add(model, keys: dict, increments: dict) -> None:
    """Count something now; `flush` writes it."""
    key = (model, tuple(keys.items()))
    with _lock:
        totals = _pending.setdefault(key, dict.fromkeys(increments, 0))
        for name, value in increments.items():
            totals[name] = totals.get(name, 0) + value


def flush() -> None:
    """Write every count made since the last flush (nothing to do costs no query)."""
    with _lock:
        pending = dict(_pending)
        _pending.clear()
        firsts = list(_first_replies)
        _first_replies.clear()
    for (model, keys), increments in pending.items():
        counters.add(model, dict(keys), increments)
    if firsts:
        _count_active_users(firsts)


def forget() -> None:
    """Drop the counts not yet written (each test starts from an empty database)."""
    with _lock:
        _pending.clear()
        _first_replies.clear()


def _count_active_users(firsts: list[tuple[dt.date, int, int]]) -> None:
    """A user is active on a day their message got its first reply: two queries for all."""
    for day, owner in selectors.first_reply_owners(firsts=firsts):
        counters.add(DailyActiveUser, {"day": day, "user_id": owner}, {"messages": 1})


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def record_message(*, message: Message, persona_id: int | None) -> None:
    """Count a message a turn added beside its replies (a tool result, a closing note)."""
    _add(
        DailyStat,
        {"day": _today(), "model": message.model, "persona_id": persona_id or 0},
        {"messages": 1},
    )


def record_reply(*, message: Message) -> None:
    """Count a reply that has ended: its status, tokens and time to first token, and the
    user's message it answers when it is the first reply to it.

    Users' messages are counted here, when their first reply ends, rather than as they
    are saved: a turn's start stays the few queries it is, whatever review counts.
    """
    day = _today()
    persona_id = ((message.request or {}).get("persona") or {}).get("id") or 0
    _add(
        DailyStat,
        {"day": day, "model": message.model, "persona_id": persona_id},
        {
            "messages": 1,
            "replies": 1,
            "errors": int(message.status == Message.Status.ERROR),
            "prompt_tokens": message.prompt_tokens or 0,
            "completion_tokens": message.completion_tokens or 0,
        },
    )
    if message.first_token_ms is not None:
        _add(
            DailyLatency,
            {"day": day, "bucket_ms": bucket_of(message.first_token_ms)},
            {"count": 1},
        )
    if message.parent_id is not None:
        with _lock:
            _first_replies.append((day, message.pk, message.parent_id))


def record_tokens(*, message: Message, prompt: int | None, completion: int | None) -> None:
    """Count one more request's tokens for a reply already counted (a continuation)."""
    persona_id = ((message.request or {}).get("persona") or {}).get("id") or 0
    _add(
        DailyStat,
        {"day": _today(), "model": message.model, "persona_id": persona_id},
        {"prompt_tokens": prompt or 0, "completion_tokens": completion or 0},
    )


def _bucket_expression():
    ms = F("first_token_ms")
    return Case(
        When(first_token_ms__lt=1_000, then=ms / 10 * 10),
        When(first_token_ms__lt=10_000, then=ms / 100 * 100),
        When(first_token_ms__lt=60_000, then=ms / 1_000 * 1_000),
        default=Value(60_000),
        output_field=IntegerField(),
    )


def rebuild(*, message_model=Message, stat=DailyStat, users=DailyActiveUser, latency=DailyLatency):
    """Recompute every rollup from the messages (models may be a migration's historical ones).

    Replies are assistant messages made for a request that have ended, as counted live.
    """
    day = TruncDate("created_at", tzinfo=dt.UTC)
    reply = Q(role="assistant", request__isnull=False) & ~Q(status__in=["pending", "streaming"])
    with transaction.atomic():
        for model in (stat, users, latency):
            model.objects.all().delete()
        rows = (
            message_model.objects.exclude(role="user")
            .annotate(day=day, persona=Coalesce("conversation__persona_id", 0))
            .values("day", "model", "persona")
            .annotate(
                messages=Count("id"),
                replies=Count("id", filter=reply),
                errors=Count("id", filter=reply & Q(status="error")),
                prompt=Coalesce(Sum("prompt_tokens", filter=reply), 0),
                completion=Coalesce(Sum("completion_tokens", filter=reply), 0),
            )
            .order_by()
        )
        stat.objects.bulk_create(
            (
                stat(
                    day=row["day"],
                    model=row["model"],
                    persona_id=row["persona"],
                    messages=row["messages"],
                    replies=row["replies"],
                    errors=row["errors"],
                    prompt_tokens=row["prompt"],
                    completion_tokens=row["completion"],
                )
                for row in rows.iterator()
            ),
            batch_size=1000,
        )
        active = (
            message_model.objects.filter(role="user")
            .annotate(day=day)
            .values("day", "conversation__owner_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        users.objects.bulk_create(
            (
                users(day=r["day"], user_id=r["conversation__owner_id"], messages=r["n"])
                for r in active.iterator()
            ),
            batch_size=1000,
        )
        buckets = (
            message_model.objects.filter(reply, first_token_ms__isnull=False)
            .annotate(day=day, bucket=_bucket_expression())
            .values("day", "bucket")
            .annotate(n=Count("id"))
            .order_by()
        )
        latency.objects.bulk_create(
            (
                latency(day=r["day"], bucket_ms=r["bucket"], count=r["n"])
                for r in buckets.iterator()
            ),
            batch_size=1000,
        )


def percentile(histogram: list[tuple[int, int]], fraction: float) -> int | None:
    """The nearest-rank percentile of a (bucket, count) histogram, as the bucket's upper
    bound (within 10 ms below 1 s, 100 ms below 10 s); None when it is empty."""
    total = sum(count for _, count in histogram)
    if not total:
        return None
    rank = max(1, math.ceil(round(total * fraction, 9)))  # round: 20 * 0.95 is 19.000…04
    seen = 0
    for bucket, count in sorted(histogram):
        seen += count
        if seen >= rank:
            return bucket + bucket_width(bucket)
    return None  # pragma: no cover - the loop always reaches the total
