"""Tools that exist only for tests; `tool_registry` (conftest) registers them for one test."""

import ctypes
import os
import time
from typing import Literal


def sample_tool(
    city: str, days: int, unit: Literal["c", "f"] = "c", tags: list[str] | None = None
) -> str:
    """Describe the weather.

    Args:
        city: Where, e.g. "Paris".
        days: How many days
            ahead to look.
        unit: Temperature unit.
    """
    return f"{city} {days} {unit} {tags}"


def sleepy_tool(seconds: float) -> str:
    """Sleep, then answer (for timeout tests)."""
    time.sleep(seconds)
    return "awake"


class _Unusual(BaseException):
    """Not an Exception: what a careless tool might raise."""


_RAISABLE: dict[str, type[BaseException]] = {
    "StopIteration": StopIteration,
    "SystemExit": SystemExit,
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
    "BaseException": _Unusual,
}


def raising_tool(kind: str) -> str:
    """Raise an exception of this kind (for tests of the runner)."""
    raise _RAISABLE[kind]("raised on purpose")


def hog_tool(pid_file: str) -> str:
    """Write this process's id to a file, then hold the GIL in one C call for a minute."""
    with open(pid_file, "w") as handle:
        handle.write(str(os.getpid()))
    # A PyDLL call keeps the GIL, as a long big-integer power does, but uses no CPU,
    # so what a test measures is the lock, not a busy machine.
    ctypes.PyDLL(None).sleep(60)
    return "awake"


def exiting_tool(code: int) -> str:
    """End the process at once, as a crash would."""
    os._exit(code)


def greedy_tool(megabytes: int) -> str:
    """Take this much memory at once (for the workers' memory limit)."""
    taken = bytearray(megabytes * 1024 * 1024)
    return f"took {len(taken) // (1024 * 1024)} MB"
