"""Per-user limits on turns, checked inside the one transaction that starts a turn.

A turn's start (turns/starts.py, turn_begin_*) calls `admit` in the transaction that claims
its conversation, so the limits cost no round trip of their own and hold across server
processes: the user's TurnAllowance row is locked (PostgreSQL; SQLite has one writer at
a time anyway), so two processes starting turns for one user take turns.

- running turns: the user's conversations with a live lease (CHAT_MAX_RUNNING_TURNS);
- turns per minute (CHAT_TURNS_PER_MINUTE): a generic cell rate algorithm (GCRA) on one
  timestamp per user: bursts of up to the per-minute number, then one start every
  60/N seconds, and the exact wait when refused;
- daily tokens: prompt plus completion tokens of the user's replies since midnight UTC,
  against the quota staff set for the user or their groups (TokenQuota), else
  CHAT_DAILY_TOKENS. A reply that starts within the quota may end past it.

The same statement reads the user's custom instructions, which every request's system
prompt carries: the turn's plan needs no read of its own after the start commits.

Tokens are added up in memory as replies end and written by the runtime's save loop
about once a second (`take_tokens` / `write_tokens`), in user order, so no two
processes ever wait on each other's rows in opposite orders.
"""

import contextlib
import datetime as dt
import functools
import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import counters
from ..accounts.models import UserSettings
from ..errors import rate_limited, wait_text
from ..models import Conversation
from ..turns import sql as turn_sql
from .models import DailyTokens, TokenQuota, TurnAllowance

logger = logging.getLogger(__name__)

RUNNING_RETRY = 5.0  # When one of several running replies will end is unknown: try soon.
KEEP_DAYS = 90  # Days of token counts kept for staff (the admin's "Token usage").


def _today(now: datetime) -> dt.date:
    return now.astimezone(dt.UTC).date()


def _next_midnight(now: datetime) -> datetime:
    day = _today(now) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Allowance:
    """A user's allowance row as `admit` reads it: locked, with what the limits need."""

    turns_tat: datetime | None
    has_own_quota: bool
    own_quota: int | None
    group_unlimited: bool
    group_quota: int | None
    used: int | None
    running: int
    custom_instructions: str


@functools.cache
def _allowance_sql(lock: bool) -> str:
    """One statement for every limit, written once: the ORM took longer to build the query
    (five subqueries) than the database took to answer it, on every turn start."""
    a = TurnAllowance._meta.db_table
    q = TokenQuota._meta.db_table
    d = DailyTokens._meta.db_table
    c = Conversation._meta.db_table
    s = UserSettings._meta.db_table
    ug = get_user_model().groups.through._meta.db_table
    groups = f"{q} gq JOIN {ug} ug ON ug.group_id = gq.group_id WHERE ug.user_id = a.user_id"
    return (
        f"SELECT a.turns_tat,"  # noqa: S608 - table names only; every value is a parameter.
        f" EXISTS (SELECT 1 FROM {q} uq WHERE uq.user_id = a.user_id),"
        f" (SELECT uq.daily_tokens FROM {q} uq WHERE uq.user_id = a.user_id),"
        f" EXISTS (SELECT 1 FROM {groups} AND gq.daily_tokens IS NULL),"
        f" (SELECT MAX(gq.daily_tokens) FROM {groups}),"
        f" (SELECT t.tokens FROM {d} t WHERE t.user_id = a.user_id AND t.day = %s),"
        f" (SELECT COUNT(*) FROM {c} r WHERE r.owner_id = a.user_id AND r.turn_owner <> ''"
        f"  AND r.turn_expires_at >= %s AND r.id <> %s),"
        f" (SELECT s.custom_instructions FROM {s} s WHERE s.user_id = a.user_id)"
        f" FROM {a} a WHERE a.user_id = %s" + (" FOR UPDATE" if lock else "")
    )


def _as_datetime(value) -> datetime | None:
    """A timestamp as the driver returns it: aware (psycopg), or naive UTC (SQLite, which
    may also hand back its text)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def _allowance_read(
    user_id: int, day: dt.date, now: datetime, conversation_id: int | None
) -> tuple[Hashable, str, list]:
    connection = connections[TurnAllowance.objects.db]
    ops = connection.ops
    params = [
        ops.adapt_datefield_value(day),
        ops.adapt_datetimefield_value(now),
        conversation_id or 0,
        user_id,
    ]
    key = ("allowance", user_id, conversation_id or 0, day)
    return key, _allowance_sql(connection.features.has_select_for_update), params


def admit_send_early(*, user_id: int, conversation_id: int | None, now: datetime) -> None:
    """Send `admit`'s read ahead (turn_sql.early_reads): a batch's go out together."""
    turn_sql.send_early(*_allowance_read(user_id, _today(now), now, conversation_id))


def _allowance(
    user_id: int, day: dt.date, now: datetime, conversation_id: int | None
) -> _Allowance | None:
    """The user's allowance row, locked, with their quotas, today's tokens and the turns
    running for them in other conversations beside it."""
    with contextlib.closing(
        turn_sql.read(*_allowance_read(user_id, day, now, conversation_id))
    ) as cursor:
        row = cursor.fetchone()
    if row is None:
        return None
    tat, has_own, own, unlimited, group, used, running, instructions = row
    return _Allowance(
        _as_datetime(tat),
        bool(has_own),
        own,
        bool(unlimited),
        group,
        used,
        running or 0,
        instructions or "",
    )


def _quota(row) -> int | None:
    """The daily tokens allowed (None: no limit): the user's own, their groups', the default."""
    if row.has_own_quota:
        return row.own_quota
    if row.group_unlimited:
        return None
    if row.group_quota is not None:
        return row.group_quota
    return settings.CHAT_DAILY_TOKENS or None


def daily_quota(*, user_id: int) -> int | None:
    """The daily token quota that applies to a user (None: no limit), as `admit` finds it."""
    own = TokenQuota.objects.filter(user_id=user_id).first()
    if own is not None:
        return own.daily_tokens
    groups = list(
        TokenQuota.objects.filter(group__user=user_id).values_list("daily_tokens", flat=True)
    )
    if groups:
        return None if None in groups else max(groups)
    return settings.CHAT_DAILY_TOKENS or None


def admit(*, user_id: int, conversation_id: int | None, now: datetime, turns: int = 1) -> str:
    """Count a turn's start against the user's limits, or refuse it with `rate_limited`;
    the user's custom instructions ("" for none), read with the limits.

    A compare writes `turns` replies at once: each counts as a turn (per minute, and
    running), and all of them are admitted or none.

    Runs inside the start's transaction; a refusal rolls back whatever the start had
    written (group commit runs the start's batch again, each start in a savepoint).
    """
    day = _today(now)
    row = _allowance(user_id, day, now, conversation_id)
    if row is None:
        turn_sql.allowance_create(user_id=user_id)
        row = _allowance(user_id, day, now, conversation_id)
    quota = _quota(row)
    used = (row.used or 0) + pending_tokens(user_id, day)
    if quota is not None and used >= quota:
        midnight = _next_midnight(now)
        raise rate_limited(
            f"You have used your {quota:,} tokens for today. More at midnight UTC, "
            f"in {wait_text((midnight - now).total_seconds())}.",
            (midnight - now).total_seconds(),
            limit="daily_tokens",
        )
    per_minute = settings.CHAT_TURNS_PER_MINUTE
    tat = None
    if per_minute > 0:
        interval = timedelta(seconds=60 / per_minute)
        tat = max(row.turns_tat or now, now)
        ahead = tat + interval * (turns - 1) - now - (timedelta(minutes=1) - interval)
        if ahead > timedelta(0):
            raise rate_limited(
                f"That is more than {per_minute} messages a minute. "
                f"Send again in {wait_text(ahead.total_seconds())}.",
                ahead.total_seconds(),
                limit="turns_per_minute",
            )
        tat += interval * turns
    most = settings.CHAT_MAX_RUNNING_TURNS
    if most > 0:
        running = row.running
        if running + turns > most:
            raise rate_limited(
                f"{running} replies are being written for you at once, the most allowed: "
                "wait for one to finish."
                if turns == 1
                else f"A compare of {turns} replies would make {running + turns} replies "
                f"written for you at once; the most allowed is {most}.",
                RUNNING_RETRY,
                limit="running_turns",
            )
    if tat is not None:
        turn_sql.update(TurnAllowance, user_id, {"turns_tat": tat})
    return row.custom_instructions


# ---- tokens used, counted in memory and written about once a second ---------------------

_lock = threading.Lock()
_pending: dict[tuple[int, dt.date], int] = {}


def record_tokens(*, user_id: int, tokens: int, now: datetime | None = None) -> None:
    """Count tokens a reply used; `write_tokens` saves them."""
    if tokens <= 0:
        return
    key = (user_id, _today(now or timezone.now()))
    with _lock:
        _pending[key] = _pending.get(key, 0) + tokens


def pending_tokens(user_id: int, day: dt.date) -> int:
    """Tokens counted in this process and not yet written."""
    with _lock:
        return _pending.get((user_id, day), 0)


def take_tokens() -> list[tuple[tuple[int, dt.date], int]]:
    """The counts to write, in user order; they leave the pending counts."""
    with _lock:
        items = sorted(_pending.items())
        _pending.clear()
    return items


def restore_tokens(items: list[tuple[tuple[int, dt.date], int]]) -> None:
    """Counts whose write failed go back, to be written with the next ones."""
    with _lock:
        for key, tokens in items:
            _pending[key] = _pending.get(key, 0) + tokens


def forget_tokens() -> None:
    """Drop unwritten counts (each test starts from an empty database)."""
    with _lock:
        _pending.clear()


_pruned: list[dt.date] = []


def write_tokens(
    *, items: list[tuple[tuple[int, dt.date], int]]
) -> list[tuple[tuple[int, dt.date], int]]:
    """Add counts to the users' daily rows (inside the caller's transaction); returns the
    counts to try again. The count of an account deleted meanwhile is dropped; should the
    counts fail together, each is written alone, and only those that fail again are
    handed back."""
    try:
        with transaction.atomic():
            for item in items:
                _write_count(item)
        failed = []
    except DatabaseError:
        failed = []
        for item in items:
            try:
                with transaction.atomic():
                    _write_count(item)
            except DatabaseError:
                logger.exception("Writing the token count of user %s failed", item[0][0])
                failed.append(item)
    today = _today(timezone.now())
    if not _pruned or _pruned[-1] != today:
        DailyTokens.objects.filter(day__lt=today - timedelta(days=KEEP_DAYS)).delete()
        _pruned[:] = [today]
    return failed


def _write_count(item: tuple[tuple[int, dt.date], int]) -> None:
    (user_id, day), tokens = item
    counters.add(
        DailyTokens,
        {"user_id": user_id, "day": day},
        {"tokens": tokens},
        if_exists=(get_user_model(), user_id),  # A deleted account's count goes with it.
    )
