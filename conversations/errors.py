"""A request the app refuses, with the protocol's error code and words fit for the user."""

import math


class TurnRefused(Exception):
    """Refused: answered with an `error` frame of this code (or an HTTP error).

    `extra` fields travel in the frame beside code and message (e.g. `retry_after`).
    """

    def __init__(self, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def not_found(what: str) -> TurnRefused:
    """The one answer for a missing id and for someone else's: they look the same."""
    return TurnRefused("not_found", f"That {what} does not exist.")


def rate_limited(message: str, retry_after: float, *, limit: str) -> TurnRefused:
    """The `limit` named was reached: try again in `retry_after` seconds (whole, at least 1)."""
    return TurnRefused("rate_limited", message, retry_after=retry_seconds(retry_after), limit=limit)


def retry_seconds(seconds: float) -> int:
    """Seconds to wait, as the protocol and Retry-After carry them: whole, at least 1."""
    return max(1, math.ceil(seconds))


def wait_text(seconds: float) -> str:
    """A wait in words: "12 s", "4 min", "3 h 5 min"."""
    seconds = retry_seconds(seconds)
    if seconds < 90:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


BUSY_MESSAGE = "A reply is still being written in this conversation."
