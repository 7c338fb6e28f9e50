"""Logging an unexpected failure without what the user wrote.

An exception's message can quote its input (a database error names the value it could not
store, a codec error the text around it), so the log keeps where it failed and what kind of
failure it was, and leaves the messages out.
"""

import logging
import secrets
import traceback

MAX_CHAIN = 5  # Causes and contexts followed; a cycle or a long chain stops here.


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log `exc` as the failure of `what`, with its traceback but no message; return its id."""
    error_id = secrets.token_hex(6)
    logger.error("%s failed: error %s, %s\n%s", what, error_id, _kind(exc), _trace(exc))
    return error_id


def _kind(exc: BaseException) -> str:
    kind = type(exc)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _trace(exc: BaseException) -> str:
    """Each exception of the chain with its stack (code lines, never values), newest first."""
    parts: list[str] = []
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen and len(parts) < MAX_CHAIN:
        seen.add(id(current))
        stack = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{stack}{_kind(current)}: (withheld)")
        if current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__
    return "\nwhile handling:\n".join(parts)
