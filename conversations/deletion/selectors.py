"""Reads: how long a user's conversations are kept, and which conversations the rules
say must go now.

A conversation is untouched since its `updated_at`: the last message added to it or
finished in it (a turn's start and end write it; renaming, pinning and reading do not).
Its rule is the shortest of the site's (CHAT_RETENTION_DAYS, 0 for none), its owner's
groups' (RetentionRule) and its owner's own choice (UserSettings.retention_days).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.lookups import LessThan

from .. import hooks
from ..accounts.models import UserSettings
from ..models import Conversation
from .models import RetentionRule


@dataclass(frozen=True)
class Retention:
    """One user's retention: each rule's days (None: that rule sets none)."""

    site_days: int | None
    group_days: int | None
    own_days: int | None

    @property
    def limit(self) -> int | None:
        """The days the site and the user's groups allow: a user's choice must be shorter."""
        given = [d for d in (self.site_days, self.group_days) if d]
        return min(given) if given else None

    @property
    def limit_source(self) -> str:
        """Whose rule the limit is, in words."""
        if self.limit and self.limit == self.group_days:
            return "your group's rule"
        return "the site's rule"

    @property
    def days(self) -> int | None:
        """The days after which an untouched conversation of theirs goes (None: never)."""
        given = [d for d in (self.limit, self.own_days) if d]
        return min(given) if given else None

    @property
    def source(self) -> str:
        """Whose rule that is: "own", "group", "site", or "" when none."""
        if self.days is None:
            return ""
        if self.own_days == self.days:
            return "own"
        return "group" if self.group_days == self.days else "site"

    def choices(self) -> tuple[int, ...]:
        """The periods a user may choose: those shorter than the site's and groups' rules."""
        limit = self.limit
        return tuple(d for d in UserSettings.RETENTION_CHOICES if limit is None or d < limit)


def retention_for(*, user: AbstractBaseUser) -> Retention:
    """The rules that apply to this user's conversations."""
    group_days = (
        RetentionRule.objects.filter(group__user=user.pk)
        .order_by("days")
        .values_list("days", flat=True)
        .first()
    )
    own_days = (
        UserSettings.objects.filter(user_id=user.pk)
        .values_list("retention_days", flat=True)
        .first()
    )
    return Retention(
        site_days=settings.CHAT_RETENTION_DAYS or None, group_days=group_days, own_days=own_days
    )


def _expired_terms(now: datetime) -> list[Q]:
    """One condition per rule (per distinct period), each true of a conversation it expires:
    a bounded number, whatever the number of users (the user's own periods are a fixed few,
    groups' rules are grouped by their days)."""
    terms: list[Q] = []
    if settings.CHAT_RETENTION_DAYS:
        terms.append(Q(updated_at__lt=now - timedelta(days=settings.CHAT_RETENTION_DAYS)))
    memberships = get_user_model().groups.through.objects
    groups_by_days: dict[int, list[int]] = defaultdict(list)
    for group_id, days in RetentionRule.objects.values_list("group_id", "days"):
        groups_by_days[days].append(group_id)
    for days, group_ids in sorted(groups_by_days.items()):
        member = memberships.filter(user_id=OuterRef("owner_id"), group_id__in=group_ids)
        terms.append(Q(Exists(member), updated_at__lt=now - timedelta(days=days)))
    own = [
        Q(retention_days=days) & LessThan(OuterRef("updated_at"), now - timedelta(days=days))
        for days in UserSettings.RETENTION_CHOICES
    ]
    terms.append(
        Q(Exists(UserSettings.objects.filter(reduce(or_, own), user_id=OuterRef("owner_id"))))
    )
    return terms


def retention_expired(*, now: datetime) -> QuerySet[Conversation]:
    """Conversations past their rule, held or not, running or not."""
    return Conversation.objects.filter(reduce(or_, _expired_terms(now)))


def retention_due(*, now: datetime) -> QuerySet[Conversation]:
    """Conversations retention deletes now: past their rule, with no turn running (its
    lease) and held by nobody (hooks.deletion_holds: an unresolved review item)."""
    due = retention_expired(now=now).filter(turn_owner="")
    for held in hooks.held_conversations():
        due = due.exclude(pk__in=held)
    return due
