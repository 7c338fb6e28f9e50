"""Worker processes for tools: a call that runs past its timeout is killed, not abandoned.

Why processes: a tool stuck in one long C call (a huge power, say) holds the GIL, and a
thread can be neither interrupted nor stopped, so every other user's reply would wait for
it. In a worker process it holds no lock of ours, and at its timeout the process is killed
and replaced.

How workers start: a pebble ProcessPool over multiprocessing's "forkserver" context. The
fork server is a fresh interpreter, started once and never a fork of this process (forking
a process that runs an asyncio loop and threads is unsafe); it imports the built-in tools
once, and each worker is forked from it, so replacing a killed worker takes milliseconds.
A tool travels to its worker by reference (module and name) and is imported there, so it
must be a module-level function; it must not use the database (see `@tool(isolated=False)`).
Each worker lives under a memory limit (`CHAT_TOOL_MEMORY_MB`) and dies at once on SIGTERM.
"""

import asyncio
import json
import logging
import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable

from django.conf import settings
from pebble import ProcessExpired, ProcessPool

MAX_RESULT_CHARS = 20_000
# Imported by the fork server, so every worker starts with them loaded.
PRELOAD = ["conversations.tools.builtin"]

logger = logging.getLogger(__name__)

_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


def as_result(function: Callable, arguments: dict) -> str:
    """Call a tool and return its result as bounded text; whatever it raises is the result.

    Runs where the tool runs (a worker process or a thread), so no exception ever crosses
    back: a StopIteration, for one, cannot be raised into an asyncio future at all.
    """
    try:
        result = function(**arguments)
        text = result if isinstance(result, str) else json.dumps(result, default=str)
    except BaseException as exc:  # noqa: BLE001 - a tool's failure is the model's to read
        return f"Error: {type(exc).__name__}: {exc}"[:MAX_RESULT_CHARS]
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + "\n[truncated]"
    return text


def timeout_result(timeout: float) -> str:
    return f"Error: the tool took longer than {timeout:g} s."


async def call(function: Callable, arguments: dict, *, timeout: float) -> str:
    """Run a tool in a worker process; past `timeout` seconds its worker is killed."""
    try:
        # Starting the pool (the first call, or after it broke) forks processes and waits
        # for them: do it off the event loop, and do not count it against the tool.
        pool = await asyncio.to_thread(_get_pool)
        # pebble's own timeout is the backstop should this coroutine never resume.
        future = pool.schedule(as_result, args=(function, arguments), timeout=timeout + 1)
    except Exception as exc:  # noqa: BLE001 - no worker: the model reads why
        return _could_not_run(exc)
    try:
        # Cancelling the wrapper (timeout, or the turn being stopped) cancels the pebble
        # future, and pebble kills the worker running it and starts a new one. (A timeout
        # scope, not wait_for, which on Python 3.11 can swallow a stop's cancellation.)
        async with asyncio.timeout(timeout):
            return await asyncio.wrap_future(future)
    except TimeoutError:
        return timeout_result(timeout)
    except ProcessExpired as exc:
        return f"Error: the tool's process ended unexpectedly (exit code {exc.exitcode})."
    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be sent back
        return _could_not_run(exc)


def start() -> None:
    """Start the pool now, blocking (call it off the event loop): the server does at
    start-up, so the first tool call does not wait for the fork server's fresh interpreter
    and its imports. A failure is logged; the first call tries again."""
    try:
        _get_pool()
    except Exception:
        logger.exception("The tool worker pool did not start; the first tool call will retry")


def _could_not_run(exc: Exception) -> str:
    return f"Error: the tool could not be run ({type(exc).__name__}: {exc})."


def _get_pool() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None or not _pool.active:
            if _pool is not None:  # A broken pool: end whatever is left of it.
                _pool.stop()
                _pool.join()
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = ProcessPool(
                max_workers=settings.CHAT_TOOL_WORKERS,
                initializer=_start_worker,
                initargs=(settings.CHAT_TOOL_MEMORY_MB,),
                context=context,
            )
            # Asking starts the pool (forks the workers) here, off the event loop, rather
            # than at the first schedule().
            if not _pool.active:
                raise RuntimeError("the tool worker pool did not start")
        return _pool


def _start_worker(memory_mb: int) -> None:
    """Runs in each new worker before its first call."""
    # pebble exits on SIGTERM through a Python handler, which cannot run while a tool is
    # inside one long C call; the default action ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
