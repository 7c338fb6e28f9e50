"""Group commit: database work that arrives together runs in one transaction.

Turn starts, reply finishes and the periodic progress save all go through here. While
one batch is in the database, the next one gathers; so fifty turns that start at once
cost a few transactions, not fifty, and none waits behind a queue of single trips.
Each piece of work runs in its own savepoint: one that fails leaves the others intact.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async as db
from django.db import transaction

MAX_BATCH = 64


@dataclass
class _Work:
    function: Callable[..., Any]
    kwargs: dict
    after: Callable[[Any], Any] | None  # Runs after the commit, outside the transaction.
    future: asyncio.Future


class GroupCommit:
    """Runs queued database work in batches, one transaction per batch."""

    def __init__(self) -> None:
        self._queue: list[_Work] = []
        self._worker: asyncio.Task | None = None

    async def run(
        self, function: Callable[..., Any], *, after: Callable[[Any], Any] | None = None, **kwargs
    ) -> Any:
        """Run `function(**kwargs)` inside the next batch's transaction; return its result.

        `after(result)` runs on the database thread once the batch has committed, for
        work that needs the result but must not hold the transaction open.
        """
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Work(function, kwargs, after, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                results = await db(_execute)(batch)
            except Exception as exc:  # noqa: BLE001 - the commit itself failed: tell every caller
                results = [(False, exc)] * len(batch)
            for work, (ok, value) in zip(batch, results, strict=True):
                if work.future.done():
                    continue
                if ok:
                    work.future.set_result(value)
                else:
                    work.future.set_exception(value)


def _execute(batch: list[_Work]) -> list[tuple[bool, Any]]:
    results: list[tuple[bool, Any]] = []
    with transaction.atomic():
        for work in batch:
            try:
                with transaction.atomic():
                    results.append((True, work.function(**work.kwargs)))
            except Exception as exc:  # noqa: BLE001 - handed to the caller of this work
                results.append((False, exc))
    for index, (work, (ok, value)) in enumerate(zip(batch, results, strict=True)):
        if ok and work.after is not None:
            try:
                results[index] = (True, work.after(value))
            except Exception as exc:  # noqa: BLE001 - handed to the caller of this work
                results[index] = (False, exc)
    return results
