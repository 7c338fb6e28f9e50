"""A request the app refuses, with the protocol's error code and words fit for the user."""


class TurnRefused(Exception):
    """Refused: answered with an `error` frame of this code (or an HTTP error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def not_found(what: str) -> TurnRefused:
    """The one answer for a missing id and for someone else's: they look the same."""
    return TurnRefused("not_found", f"That {what} does not exist.")


BUSY_MESSAGE = "A reply is still being written in this conversation."
