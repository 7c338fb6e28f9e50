"""What else goes when conversations or an account go, and which jobs the runner runs.

Rows with a foreign key to a conversation, a message or a user go with it by themselves
(they cascade). Anything else (a file on disk, a cached link, a row keyed by a plain id)
registers here once, at import time of its package:

- `on_conversations_deleted(name)`: a function `(conversation_ids) -> after` run inside the
  transaction that deletes those conversations, before their rows go (it may read them,
  and delete rows of its own there). It returns None, or a function with no arguments
  run once that transaction has committed: the place for work that cannot be rolled
  back, such as removing files. A rolled-back deletion runs none of it.
- `on_account_deleted(name)`: the same for one account, `(user_id) -> after`, run after its
  conversations have gone and before its row goes.
- `purge_job(job)`: a job for the runner (runner.py), run in turn with the others.

A failing after-commit function is logged and the others still run: the rows are gone by
then, and nothing can bring them back.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

AfterCommit = Callable[[], None]
ConversationCleanup = Callable[[list[int]], AfterCommit | None]
AccountCleanup = Callable[[int], AfterCommit | None]

CONVERSATION_CLEANUPS: dict[str, ConversationCleanup] = {}
ACCOUNT_CLEANUPS: dict[str, AccountCleanup] = {}


def on_conversations_deleted(name: str) -> Callable[[ConversationCleanup], ConversationCleanup]:
    """Register what must go with deleted conversations (see the module docstring)."""

    def register(cleanup: ConversationCleanup) -> ConversationCleanup:
        CONVERSATION_CLEANUPS[name] = cleanup
        return cleanup

    return register


def on_account_deleted(name: str) -> Callable[[AccountCleanup], AccountCleanup]:
    """Register what must go with a deleted account (see the module docstring)."""

    def register(cleanup: AccountCleanup) -> AccountCleanup:
        ACCOUNT_CLEANUPS[name] = cleanup
        return cleanup

    return register


@dataclass
class BatchResult:
    """One transaction of a job: how far it got (the last key it looked at, None when the
    job has nothing left) and what it deleted."""

    cursor: int | None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PurgeJob:
    """Something the runner deletes on a schedule, a bounded batch at a time.

    `batch(after=, limit=)` deletes at most `limit` items whose key is above `after`, in
    one transaction, and says how far it got; `preview()` says what a run would delete
    now, and deletes nothing (the dry run).
    """

    name: str
    batch: Callable[..., BatchResult]
    preview: Callable[[], dict[str, int]]


PURGE_JOBS: dict[str, PurgeJob] = {}


def purge_job(job: PurgeJob) -> PurgeJob:
    """Register a job for the runner (its name once)."""
    PURGE_JOBS[job.name] = job
    return job
