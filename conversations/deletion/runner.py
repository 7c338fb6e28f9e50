"""The one runner of scheduled deletions: every registered job (registry.PURGE_JOBS;
retention first), a bounded batch per transaction, by one process at a time.

Two ways to run it, which may be mixed:
- each server process runs a `Runner` thread that wakes every POLL seconds (at most) and
  runs the jobs if no run has finished within CHAT_PURGE_SECONDS and it wins the lease;
- `manage.py purge`, from cron, which runs them at once if it wins the lease.

The lease (RunnerLease) is one row, claimed with one conditional update and renewed before
every batch: a run that loses it (it outlived LEASE_SECONDS without a batch ending) stops
before its next batch. Each batch locks its conversations and checks them again, so even
two runs at once would delete each conversation once.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections

from . import registry, services
from . import retention as _retention  # noqa: F401 - registers the retention job
from . import temporary as _temporary  # noqa: F401 - registers the temporary chats' job

logger = logging.getLogger(__name__)

LEASE_NAME = "purge"
# Longer than any one batch takes: a batch is at most CHAT_PURGE_BATCH conversations and
# about retention.PURGE_BATCH_MESSAGES messages.
LEASE_SECONDS = 300
POLL = 60.0  # A server process looks whether a run is due at least this often.


def process_owner(kind: str) -> str:
    """A name for this process in the lease: host, pid and a random part."""
    return f"{kind}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class RunReport:
    """What a run did: whether it held the lease, went to its end, and each job's counts."""

    ran: bool = False
    finished: bool = False
    batches: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, job: str, counts: dict[str, int]) -> None:
        totals = self.counts.setdefault(job, {})
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value


def run(
    *,
    owner: str,
    due_after: timedelta | None = None,
    batch: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RunReport:
    """Run every job to its end if this owner wins the lease (and, with `due_after`, no run
    finished within that long); stop between batches when `should_stop()` says so."""
    report = RunReport()
    if not services.lease_claim(
        name=LEASE_NAME, owner=owner, seconds=LEASE_SECONDS, due_after=due_after
    ):
        return report
    report.ran = True
    limit = batch or settings.CHAT_PURGE_BATCH
    try:
        for job in list(registry.PURGE_JOBS.values()):
            report.counts.setdefault(job.name, {})
            cursor = 0
            while cursor is not None:
                if should_stop() or not services.lease_renew(
                    name=LEASE_NAME, owner=owner, seconds=LEASE_SECONDS
                ):
                    return report
                result = job.batch(after=cursor, limit=limit)
                if result.counts:
                    report.batches += 1
                    report.add(job.name, result.counts)
                cursor = result.cursor
        report.finished = True
    finally:
        services.lease_release(name=LEASE_NAME, owner=owner, finished=report.finished)
    return report


def preview() -> dict[str, dict[str, int]]:
    """What a run would delete now, per job; nothing is deleted (the dry run)."""
    return {name: job.preview() for name, job in registry.PURGE_JOBS.items()}


class Runner:
    """A server process's runner: a thread, with its own database connection, that runs
    the jobs when they are due and this process wins the lease."""

    def __init__(self, *, every: float, poll: float = POLL) -> None:
        self.every = every
        self.poll = min(every, poll)
        self.owner = process_owner("server")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="purge-runner", daemon=True)

    def start(self) -> None:
        logger.info(
            "Purge runner %s: runs deletion jobs every %g s when elected", self.owner, self.every
        )
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop after the batch under way, if any (its transaction is never cut short)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                report = run(
                    owner=self.owner,
                    due_after=timedelta(seconds=self.every),
                    should_stop=self._stop.is_set,
                )
                if report.ran:
                    log_report(report, owner=self.owner)
            except Exception:  # Never the end of the loop: the next poll tries again.
                logger.exception("A deletion run failed; the next one will try again")
            finally:
                connections.close_all()  # This thread's own connections only.


def log_report(report: RunReport, *, owner: str) -> None:
    """One line per run: counts only."""
    totals = ", ".join(
        f"{job}: " + (", ".join(f"{n} {key}" for key, n in counts.items()) or "nothing")
        for job, counts in report.counts.items()
    )
    logger.info(
        "Deletion run by %s %s in %d batches (%s)",
        owner,
        "finished" if report.finished else "stopped early",
        report.batches,
        totals,
    )


_runner: Runner | None = None


def start_in_process() -> Runner | None:
    """Start this server process's runner, unless CHAT_PURGE_SECONDS is 0 (cron runs it)."""
    global _runner
    if settings.CHAT_PURGE_SECONDS and _runner is None:
        _runner = Runner(every=settings.CHAT_PURGE_SECONDS)
        _runner.start()
    return _runner


def stop_in_process(timeout: float = 10) -> None:
    """Stop this process's runner, if it runs (a server's drain)."""
    if _runner is not None:
        _runner.stop(timeout)
