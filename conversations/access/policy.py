"""Who may use what, as this process knows it: every rule, and the memberships of the
groups rules name, held in memory, so a turn's check is a dict lookup and no query.

The snapshot is read whole (two queries) the first time it is needed and again whenever
something it depends on changes: a rule saved or deleted, a group's members, a group
deleted. provider/availability.py hears those saves and tells every process over the
channel layer; the runtime also reads it again every catalog.ROWS_REFRESH seconds (a
message can be lost), and a page finds one older than TTL too old and reads it again.

Bounds: at most services.MAX_RULES rules; at most MAX_MEMBERSHIPS memberships of the
groups they name. Past that, the snapshot holds the rules only and a check reads the
user's groups (one query, for a thing that has a rule; never in async code: the
callers all run on the database thread).
"""

import itertools
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

from . import selectors, services

TTL = 60.0
MAX_MEMBERSHIPS = 100_000

NONE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Snapshot:
    """Every rule, by (kind, name): the groups that may use the thing. A rule whose groups
    are all gone lets nobody use it (deleting a group never opens a thing to everyone)."""

    rules: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    # Each user's groups among those the rules name; None past MAX_MEMBERSHIPS.
    members: dict[int, frozenset[int]] | None = field(default_factory=dict)
    by_kind: dict[str, tuple[str, ...]] = field(default_factory=dict)  # The names with rules.

    def user(self, user_id: int) -> "UserAccess":
        """What one user may use."""
        return UserAccess(self, user_id)

    def restricted(self, kind: str, name: str) -> bool:
        """Whether a rule keeps this thing to some groups."""
        return (kind, name) in self.rules


@dataclass
class UserAccess:
    """One user's side of a snapshot; their groups read at most once."""

    snapshot: Snapshot
    user_id: int

    @cached_property
    def groups(self) -> frozenset[int]:
        members = self.snapshot.members
        if members is None:  # Past the bound: this user's alone (see the module's docstring).
            return selectors.user_group_ids(user_id=self.user_id)
        return members.get(self.user_id, NONE)

    def may(self, kind: str, name: str) -> bool:
        """Whether the user may use this thing: it has no rule, or they are in its groups."""
        allowed = self.snapshot.rules.get((kind, name))
        return allowed is None or not allowed.isdisjoint(self.groups)

    def only_allowed(self, kind: str, names) -> list[str]:
        """The names of those things the user may use, in their order."""
        return [name for name in names if self.may(kind, name)]

    def kept_from(self, kind: str) -> list[str]:
        """The things of a kind that rules keep from the user."""
        return [name for name in self.snapshot.by_kind.get(kind, ()) if not self.may(kind, name)]


EVERYONE = Snapshot()  # No rules at all.

_lock = threading.Lock()
_loads = itertools.count(1)
_held: tuple[int, float, Snapshot] | None = None  # (load number, loaded at, snapshot)


def load() -> Snapshot:
    """Read the rules and their groups' memberships into this process's memory; return it.

    Of two loads that overlap, the one that began later is kept, whichever ends last.
    """
    global _held
    number = next(_loads)
    rules = selectors.rule_groups_all(limit=services.MAX_RULES)
    group_ids = set().union(*rules.values()) if rules else set()
    members = selectors.memberships(group_ids=group_ids, limit=MAX_MEMBERSHIPS) if group_ids else {}
    by_kind: dict[str, list[str]] = {}
    for kind, name in rules:
        by_kind.setdefault(kind, []).append(name)
    snapshot = Snapshot(
        rules=rules,
        members=members,
        by_kind={kind: tuple(names) for kind, names in by_kind.items()},
    )
    with _lock:
        if _held is None or _held[0] < number:
            _held = (number, time.monotonic(), snapshot)
        return _held[2]


def current(*, max_age: float = TTL) -> Snapshot:
    """The snapshot, read again when older than `max_age` (sync code only)."""
    held = _held
    if held is None or time.monotonic() - held[1] > max_age:
        return load()
    return held[2]


def cached() -> Snapshot | None:
    """The snapshot in memory, however old; None before the first load (never a query)."""
    held = _held
    return held[2] if held else None


def forget() -> None:
    """Drop the snapshot (tests: each starts from an empty database)."""
    global _held
    with _lock:
        _held = None
