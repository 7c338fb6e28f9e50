"""Worker processes that read uploads: one that runs past its time or memory is killed.

A sibling of the tools' pool (conversations/tools/workers.py, which says why processes and
why the fork server), with limits of its own: reading a hostile PDF or a decompression
bomb is what these workers are for, so they get CHAT_FILE_TIMEOUT seconds and
CHAT_FILE_MEMORY_MB of address space, and a worker that hits either is replaced.
"""

import logging
import multiprocessing
import resource
import signal
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from pebble import ProcessExpired, ProcessPool

from .reading import Refused, read_file

WORKERS = 2


logger = logging.getLogger(__name__)

_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


def read(path: str, *, name: str, out_path: str) -> dict:
    """Read an upload in a worker (blocking: call it from a thread, never the event loop).

    Returns reading.Read as a dict; raises Refused with words fit to show.
    """
    timeout = settings.CHAT_FILE_TIMEOUT
    try:
        future = _get_pool().schedule(
            read_file,
            args=(path,),
            kwargs={
                "name": name,
                "out_path": out_path,
                "max_pixels": settings.CHAT_MAX_IMAGE_PIXELS,
                "max_pages": settings.CHAT_FILE_MAX_PAGES,
                "max_chars": settings.CHAT_FILE_MAX_CHARS,
            },
            timeout=timeout,  # pebble kills the worker at this time and starts another.
        )
    except Exception as exc:
        logger.exception("The file worker pool could not take a file")
        raise Refused("The file could not be read just now; try again.") from exc
    try:
        return future.result()
    except Refused:
        raise
    except FutureTimeout:
        raise Refused(f"Reading this file took longer than {timeout:g} s.") from None
    except (MemoryError, ProcessExpired):
        # MemoryError: raised in the worker at its address-space limit; ProcessExpired:
        # the worker died of it (a C library cannot always raise).
        raise Refused(
            f"Reading this file needed more than {settings.CHAT_FILE_MEMORY_MB} MB of memory."
        ) from None
    except Exception as exc:
        logger.exception("Reading a file failed")
        raise Refused(f"This file could not be read ({type(exc).__name__}).") from None


def _get_pool() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None or not _pool.active:
            if _pool is not None:
                _pool.stop()
                _pool.join()
            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPool(
                max_workers=WORKERS,
                initializer=_start_worker,
                initargs=(settings.CHAT_FILE_MEMORY_MB,),
                context=context,
            )
        return _pool


def _start_worker(memory_mb: int) -> None:
    """Runs in each new worker before its first file."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def stop() -> None:
    """End the pool (server shutdown; tests that change its limits). The next file starts
    a new one."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.stop()
            _pool.join()
            _pool = None
