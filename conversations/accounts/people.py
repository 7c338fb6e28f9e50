"""Reads for staff's "Users and groups" page: per person, their groups, second factor,
last sign-in, tokens this month against their quota and open sessions; and the groups,
with their members, quotas and what they are given. Every read is bounded: a page of
people at a time, a few sessions each."""

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from ..access import kinds
from ..access.models import AccessRule
from ..limits import selectors as limit_selectors
from ..limits.models import TokenQuota
from ..personas.models import Persona
from . import selectors
from .models import SignIn

PAGE_SIZE = 50
SESSIONS_SHOWN = 10  # Of each person's open sessions, the newest; the count says the rest.
GROUPS_SHOWN = 200


@dataclass
class Person:
    user: AbstractBaseUser
    groups: list[str]
    two_factor: str
    tokens_month: int
    tokens_today: int
    daily_quota: int | None  # None: no limit.
    days_in_month: int
    sessions: list[SignIn] = field(default_factory=list)
    open_sessions: int = 0

    @property
    def tokens_text(self) -> str:
        """This month's tokens against the most the daily quota allows in the month."""
        used = f"{self.tokens_month:,} this month"
        if self.daily_quota is None:
            return f"{used} (no limit); {self.tokens_today:,} today"
        most = self.daily_quota * self.days_in_month
        return (
            f"{used} of at most {most:,} ({self.daily_quota:,} a day); "
            f"{self.tokens_today:,} of {self.daily_quota:,} today"
        )


@dataclass
class GroupFacts:
    group: Group
    members: int
    daily_quota: int | None  # None: no limit, or no quota of its own (see has_quota).
    has_quota: bool
    may_use: list[str]  # "Model x", "Tool y": things kept to groups, this one among them.

    @property
    def quota_text(self) -> str:
        if not self.has_quota:
            return "none of its own"
        return "no limit" if self.daily_quota is None else f"{self.daily_quota:,} a day"


def people(*, now: dt.datetime, search: str = "", group_id: int | None = None, page: int = 1):
    """One page of people (by username) and what the page shows of each."""
    users = get_user_model().objects.order_by("username")
    if search:
        users = users.filter(Q(username__icontains=search) | Q(email__icontains=search))
    if group_id is not None:
        users = users.filter(groups=group_id)
    shown: Page = Paginator(users.prefetch_related("groups"), PAGE_SIZE).get_page(page)
    ids = [user.pk for user in shown]
    today = now.astimezone(dt.UTC).date()
    days = calendar.monthrange(today.year, today.month)[1]
    month = limit_selectors.tokens_used(user_ids=ids, since=today.replace(day=1), until=today)
    day = limit_selectors.tokens_used(user_ids=ids, since=today, until=today)
    quotas = limit_selectors.daily_quotas(user_ids=ids)
    counts, newest = _sessions(ids, now)
    second_factors = selectors.two_factor_statuses(user_ids=ids)
    found = [
        Person(
            user=user,
            groups=sorted(group.name for group in user.groups.all()),
            two_factor=second_factors[user.pk],
            tokens_month=month.get(user.pk, 0),
            tokens_today=day.get(user.pk, 0),
            daily_quota=quotas[user.pk],
            days_in_month=days,
            sessions=newest.get(user.pk, []),
            open_sessions=counts.get(user.pk, 0),
        )
        for user in shown
    ]
    return shown, found


def _sessions(user_ids: list[int], now: dt.datetime):
    """Each user's count of open (unexpired) sessions, and the newest few of them."""
    open_ = SignIn.objects.filter(user_id__in=user_ids, session__expire_date__gt=now)
    counts = dict(
        open_.values("user_id").annotate(n=Count("session_id")).values_list("user_id", "n")
    )
    ranked = open_.annotate(
        rank=Window(RowNumber(), partition_by=F("user_id"), order_by=F("signed_in_at").desc())
    ).filter(rank__lte=SESSIONS_SHOWN)
    newest: dict[int, list[SignIn]] = {}
    for sign_in in ranked.select_related("session").order_by("user_id", "-signed_in_at"):
        newest.setdefault(sign_in.user_id, []).append(sign_in)
    return counts, newest


def groups() -> list[GroupFacts]:
    """The groups (by name, at most GROUPS_SHOWN), each with its members, its own daily
    quota and the things rules keep to it."""
    found = list(Group.objects.annotate(members=Count("user")).order_by("name")[:GROUPS_SHOWN])
    ids = [group.pk for group in found]
    quotas = dict(
        TokenQuota.objects.filter(group_id__in=ids).values_list("group_id", "daily_tokens")
    )
    given: dict[int, list[tuple[str, str]]] = {}
    for group_id, kind, name in AccessRule.groups.through.objects.filter(
        group_id__in=ids
    ).values_list("group_id", "accessrule__kind", "accessrule__name"):
        given.setdefault(group_id, []).append((kind, name))
    personas = _persona_names(
        [name for things in given.values() for kind, name in things if kind == kinds.PERSONA]
    )
    return [
        GroupFacts(
            group=group,
            members=group.members,
            daily_quota=quotas.get(group.pk),
            has_quota=group.pk in quotas,
            may_use=sorted(
                f"{kinds.label(kind)} {personas.get(name, name) if kind == kinds.PERSONA else name}"
                for kind, name in given.get(group.pk, [])
            ),
        )
        for group in found
    ]


def _persona_names(ids: list[str]) -> dict[str, str]:
    numbers = [int(pk) for pk in ids if pk.isdigit()]
    return {
        str(pk): name
        for pk, name in Persona.objects.filter(pk__in=numbers).values_list("pk", "name")
    }
