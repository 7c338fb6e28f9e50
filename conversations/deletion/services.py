"""Writes: deleting conversations and accounts, the one way everyone does it, and the
runner's lease.

A deletion is one transaction per batch of conversations. In it the conversations are
locked and checked again, what other apps keep about them is told (hooks.conversations_
deleting: review's tombstones and audit counts), what registered packages keep beside
them is collected (registry.py), and the rows go; the registered after-commit work runs
once the transaction has committed, never for one rolled back.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .. import hooks
from ..models import Conversation, Message
from . import registry
from .models import RunnerLease

logger = logging.getLogger(__name__)

# An account's conversations go this many at a time, each batch one transaction.
ACCOUNT_BATCH = 50


class Reason(StrEnum):
    """Why conversations are deleted: their owner, staff, the account's deletion, a rule,
    a temporary chat's end."""

    USER = "user"
    STAFF = "staff"
    ACCOUNT = "account"
    RETENTION = "retention"
    # A temporary chat closed or past its hours: its owner's own choice, so, like their
    # own delete, audited by nobody and held by nothing (deletion/temporary.py).
    TEMPORARY = "temporary"


# Deletions nobody asked for in person: the runner's. A conversation a receiver of
# hooks.deletion_holds holds (an open review item) is kept from these.
AUTOMATIC = frozenset({Reason.RETENTION})


@dataclass(frozen=True)
class Deleted:
    """What one deletion took: counts only."""

    conversations: int = 0
    messages: int = 0

    def __add__(self, other: "Deleted") -> "Deleted":
        return Deleted(self.conversations + other.conversations, self.messages + other.messages)


def conversations_delete(
    *,
    conversation_ids: Sequence[int],
    reason: Reason,
    actor: AbstractBaseUser | None = None,
    path: str = "",
    within: QuerySet[Conversation] | None = None,
) -> Deleted:
    """Delete these conversations, with every message and everything kept about them, in
    one transaction.

    `within` narrows them to the conversations that still qualify, checked again with the
    rows locked (a rule's job passes its own query): one changed meanwhile, or locked by
    a transaction still running (a turn starting in it), stays. Without it, the
    conversations go whatever their state, waiting for any lock on them.
    """
    if not conversation_ids:
        return Deleted()
    with transaction.atomic():
        rows = _locked(list(conversation_ids), within)
        if not rows:
            return Deleted()
        ids = [pk for pk, _ in rows]
        messages = Message.objects.filter(conversation_id__in=ids).count()
        hooks.conversations_deleting.send(
            sender=Conversation,
            conversations=rows,
            reason=str(reason),
            actor=actor,
            path=path[:300],
            messages=messages,
        )
        for name, cleanup in registry.CONVERSATION_CLEANUPS.items():
            _after_commit(name, cleanup(ids))
        # Each leaf points into the messages going too: unhook them first.
        Conversation.objects.filter(pk__in=ids).update(current_leaf=None)
        Conversation.objects.filter(pk__in=ids).delete()
    return Deleted(conversations=len(ids), messages=messages)


def _locked(ids: list[int], within: QuerySet[Conversation] | None) -> list[tuple[int, int]]:
    """(id, owner id) of the conversations that still qualify, locked for this transaction
    (PostgreSQL; SQLite's transactions here take the write lock as they begin)."""
    if within is None:
        found = Conversation.objects.filter(pk__in=ids).select_for_update()
        return list(found.order_by("pk").values_list("pk", "owner_id"))
    # Rows another transaction holds are skipped, not waited for: a rule's next run looks
    # at them again.
    found = within.filter(pk__in=ids).select_for_update(skip_locked=True, of=("self",))
    rows = list(found.order_by("pk").values_list("pk", "owner_id"))
    # Asked again now that they are locked: the statement above read the other tables
    # (the review queue's holds) as they were when it began, and a hold committed while it
    # ran would be missed. No new hold can point at a locked row, so this answer stands.
    still = set(within.filter(pk__in=[pk for pk, _ in rows]).values_list("pk", flat=True))
    return [row for row in rows if row[0] in still]


def conversation_delete(
    *,
    conversation: Conversation,
    reason: Reason = Reason.USER,
    actor: AbstractBaseUser | None = None,
    path: str = "",
) -> Deleted:
    """Delete one conversation for good: its owner's delete, or staff's (`actor`, the
    request's `path`: review keeps a tombstone of it)."""
    return conversations_delete(
        conversation_ids=[conversation.pk], reason=reason, actor=actor, path=path
    )


def account_delete(*, user: AbstractBaseUser) -> Deleted:
    """Delete an account and everything of its: conversations (a batch per transaction, so
    none is long), personas, settings, ratings and reports. Audit entries about it stay,
    holding ids only; review work the account wrote as staff stays too, so an account that
    wrote any is refused (ProtectedError) before anything is deleted."""
    hooks.account_deleting.send(sender=type(user), user=user)  # May refuse: see hooks.
    deleted = Deleted()
    owned = Conversation.objects.filter(owner_id=user.pk).order_by("pk")
    after = 0
    while ids := list(owned.filter(pk__gt=after).values_list("pk", flat=True)[:ACCOUNT_BATCH]):
        deleted += conversations_delete(conversation_ids=ids, reason=Reason.ACCOUNT)
        after = ids[-1]
    with transaction.atomic():
        for name, cleanup in registry.ACCOUNT_CLEANUPS.items():
            _after_commit(name, cleanup(user.pk))
        # Anything the account started meanwhile (a conversation made while its older
        # ones went) goes with it, by cascade.
        get_user_model().objects.filter(pk=user.pk).delete()
    return deleted


def _after_commit(name: str, after: registry.AfterCommit | None) -> None:
    if after is None:
        return

    def run() -> None:
        try:
            after()
        except Exception:  # The rows are gone: the rest must still run. Logged, never lost.
            logger.exception("After deleting, %r failed", name)

    transaction.on_commit(run)


# ---- the runner's lease -------------------------------------------------------------------


def lease_claim(
    *, name: str, owner: str, seconds: float, due_after: timedelta | None = None
) -> bool:
    """Take the lease of job `name` for `seconds`, if it is free, expired or already this
    owner's; with `due_after`, only if no run has finished within that long. One
    conditional update: of several processes asking at once, one gets it."""
    now = timezone.now()
    claimable = Q(owner="") | Q(expires_at__lt=now) | Q(owner=owner)
    if due_after is not None:
        claimable &= Q(finished_at__isnull=True) | Q(finished_at__lte=now - due_after)
    expires = now + timedelta(seconds=seconds)
    leases = RunnerLease.objects.filter(name=name)
    if leases.filter(claimable).update(owner=owner, expires_at=expires):
        return True
    if leases.exists():
        return False
    try:
        with transaction.atomic():  # The first run ever: the row is made by its first owner.
            RunnerLease.objects.create(name=name, owner=owner, expires_at=expires)
    except IntegrityError:  # Another process made it first, and holds it.
        return False
    return True


def lease_renew(*, name: str, owner: str, seconds: float) -> bool:
    """Keep the lease for `seconds` more; False if it is no longer this owner's."""
    expires = timezone.now() + timedelta(seconds=seconds)
    return bool(RunnerLease.objects.filter(name=name, owner=owner).update(expires_at=expires))


def lease_release(*, name: str, owner: str, finished: bool) -> None:
    """Give the lease up; `finished`: the run went to its end, so the next is due from now."""
    fields: dict = {"owner": "", "expires_at": None}
    if finished:
        fields["finished_at"] = timezone.now()
    RunnerLease.objects.filter(name=name, owner=owner).update(**fields)
