"""Group commit: database work that arrives together runs in one transaction.

Turn starts, reply finishes and the periodic progress save all go through here. While
one batch is in the database, the next one gathers; so fifty turns that start at once
cost a few transactions, not fifty, and none waits behind a queue of single trips.
Each piece of work runs in its own savepoint: one that fails leaves the others intact.
Turn starts, which write nothing but rows, first run all together without savepoints
(on PostgreSQL in one pipeline), and again each in its own only if one of them failed.
Work that locks a row per user (a turn's start locks the user's TurnAllowance) gives its
`order` (the user's id): each batch runs in that order, so two batches, in one process
or two, always lock rows in the same order and never wait on each other in a cycle.
"""

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async as db
from django.db import DatabaseError, close_old_connections, connection, transaction

from ..turns.sql import early_reads

MAX_BATCH = 64
# The longest a caller waits for one database step; past it the step counts as failed
# (a loop tries it again on its next round): a lock held for minutes holds up no loop.
STEP_TIMEOUT = 30.0


@dataclass
class _Work:
    function: Callable[..., Any]
    kwargs: dict
    after: Callable[[Any], Any] | None  # Runs after the commit, outside the transaction.
    future: asyncio.Future
    order: int = 0
    repeatable: bool = False  # Keeps nothing outside the database: may run a second time.


class GroupCommit:
    """Runs queued database work in batches, one transaction per batch.

    With `workers` > 1, up to that many batches run at once, each on its own thread and
    connection (PostgreSQL: its round trips overlap); with one, every batch runs on the
    one database thread (SQLite has a single writer anyway), unless `own_thread` gives the
    lane a thread of its own: its work then never waits behind what runs on that one.
    """

    def __init__(self, *, workers: int = 1, own_thread: bool = False) -> None:
        self._queue: list[_Work] = []
        self._workers: set[asyncio.Task] = set()
        self._limit = workers
        self._threads: ThreadPoolExecutor | None = None
        if workers > 1 or own_thread:
            # Threads of its own, each with its own connection from the pool, handed back
            # after every batch (asgiref's shared executor would tie connections to tasks).
            self._threads = ThreadPoolExecutor(workers, thread_name_prefix="group-commit")

    async def _execute(self, batch: list[_Work]) -> list[tuple[bool, Any]]:
        if self._threads is None:
            return await db(_execute)(batch)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, _execute_and_hand_back, batch)

    def shutdown(self) -> None:
        """Let the lane's threads go (the runtime is stopping)."""
        if self._threads is not None:
            self._threads.shutdown(wait=False)

    async def close(self, timeout: float = 5.0) -> None:
        """Let the lane's threads go once the batch in the database has ended (within
        `timeout`): nothing of this lane runs after the runtime has stopped."""
        if self._threads is None:
            return
        try:
            async with asyncio.timeout(timeout):  # Not wait_for: see runtime.bounded.
                await asyncio.to_thread(self._threads.shutdown, wait=True)
        except TimeoutError:
            pass  # A batch stuck on a lock: its thread ends with it.

    async def run(
        self,
        function: Callable[..., Any],
        *,
        after: Callable[[Any], Any] | None = None,
        order: int = 0,
        repeatable: bool = False,
        **kwargs,
    ) -> Any:
        """Run `function(**kwargs)` inside the next batch's transaction; return its result.

        `after(result)` runs on the database thread once the batch has committed, for
        work that needs the result but must not hold the transaction open. Work in a
        batch runs by `order`, then as it came. `repeatable` work changes nothing but the
        database (a turn's start): a batch of only such work runs without a savepoint
        each, and again with them if one of it fails.
        """
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Work(function, kwargs, after, future, order, repeatable))
        if len(self._workers) < self._limit:
            self._start_worker()
        return await future

    def _start_worker(self) -> None:
        # A context of its own: the worker outlives its caller, and must not inherit a
        # request's (asgiref's executor of a finished request, for one).
        worker = asyncio.create_task(
            self._drain(), name="group-commit", context=contextvars.Context()
        )
        self._workers.add(worker)

    async def _drain(self) -> None:
        """Take batches until the queue is empty, then leave the set of workers.

        Leaving happens in the same step as finding the queue empty: with no await between
        them, no `run` can queue work that this worker will not take while it still counts
        as running (a done-callback would leave one loop iteration later, and work queued
        in that window waited for ever).
        """
        batch: list[_Work] = []
        try:
            while self._queue:
                # With several workers, share what is waiting rather than one taking it all.
                size = max(1, min(MAX_BATCH, -(-len(self._queue) // self._limit)))
                batch, self._queue = self._queue[:size], self._queue[size:]
                batch.sort(key=lambda work: work.order)  # Stable: otherwise as it came.
                try:
                    results = await self._execute(batch)
                except Exception as exc:  # noqa: BLE001 - the commit itself failed: tell every caller
                    results = [(False, exc)] * len(batch)
                for work, (ok, value) in zip(batch, results, strict=True):
                    if work.future.done():
                        continue
                    if ok:
                        work.future.set_result(value)
                    else:
                        work.future.set_exception(value)
                batch = []
        except BaseException:
            # Cancelled (the loop is closing): nobody may wait for work that will not run.
            waiting, self._queue = [*batch, *self._queue], []
            for work in waiting:
                if not work.future.done():
                    work.future.cancel()
            raise
        finally:
            self._workers.discard(asyncio.current_task())  # type: ignore[arg-type]


def _execute_and_hand_back(batch: list[_Work]) -> list[tuple[bool, Any]]:
    close_old_connections()
    try:
        return _execute(batch)
    finally:
        # Back to the pool (PostgreSQL); SQLite's connection is opened again next time (a
        # lane of its own runs about once a second), so it holds nothing in between.
        connection.close()


def _execute(batch: list[_Work]) -> list[tuple[bool, Any]]:
    results = None
    if all(work.repeatable for work in batch):
        results = _all_or_nothing(batch)
    if results is None:
        results = _each_in_savepoint(batch)
    for index, (work, (ok, value)) in enumerate(zip(batch, results, strict=True)):
        if ok and work.after is not None:
            try:
                results[index] = (True, work.after(value))
            except Exception as exc:  # noqa: BLE001 - handed to the caller of this work
                results[index] = (False, exc)
    return results


def _all_or_nothing(batch: list[_Work]) -> list[tuple[bool, Any]] | None:
    """The batch without savepoints, or None if any of it failed: then all of it was
    rolled back, to run again each in a savepoint.

    On PostgreSQL it runs in one pipeline: a statement whose answer nothing reads yet
    (an UPDATE, an INSERT given its id) goes out with the next one that is read, so a
    new conversation's start costs two round trips, not eight. A database error then
    surfaces where the next answer is read, maybe in another start's code, and the
    savepoint a start may open cannot be rolled back to within the pipeline: the second
    run, outside it and each work in a savepoint, tells which failed and why.
    """
    try:
        with _pipeline() as pipelined, transaction.atomic(), early_reads():
            if pipelined:
                _send_reads_early(batch)
            return [(True, work.function(**work.kwargs)) for work in batch]
    except Exception as exc:  # noqa: BLE001 - handed on, or told by the second run
        if len(batch) == 1 and not isinstance(exc, DatabaseError):
            return [(False, exc)]  # Its own refusal (busy, limits): running it again would too.
        return None


def _pipeline():
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    connection.ensure_connection()
    return connection.connection.pipeline()


def _send_reads_early(batch: list[_Work]) -> None:
    """Each work's reads, all sent before any work runs (turn_sql.early_reads): the batch
    then waits on the database about once, not twice a start. Only a user's first work in
    the batch: a second one must read what the first wrote (its limits, its lease)."""
    users = set()
    for work in batch:
        send = getattr(work.function, "send_reads_early", None)
        if send is not None and work.order not in users:
            send(**work.kwargs)
        users.add(work.order)


def _each_in_savepoint(batch: list[_Work]) -> list[tuple[bool, Any]]:
    results: list[tuple[bool, Any]] = []
    # Each work in its own savepoint, so one failing leaves the others' writes; a batch of
    # one needs none (a failure rolls the whole transaction back): two round trips fewer.
    savepoint = len(batch) > 1
    with transaction.atomic():
        for work in batch:
            try:
                with transaction.atomic(savepoint=savepoint):
                    results.append((True, work.function(**work.kwargs)))
            except Exception as exc:  # noqa: BLE001 - handed to the caller of this work
                results.append((False, exc))
    return results


async def bounded(awaitable):
    """`awaitable`, given up after STEP_TIMEOUT. (asyncio.timeout, not wait_for: on Python
    3.11 wait_for can swallow a cancellation that comes as its awaitable ends, and a loop
    cancelled so would never stop.)"""
    async with asyncio.timeout(STEP_TIMEOUT):
        return await awaitable
