"""The console log's last line of defence: no line leaves with the provider's key in it,
nor any other secret the app holds (an MCP server's headers, say).

The LLM client already cleans every error it raises; this catches whatever else might quote
the key (a third-party library's exception, a traceback) in any form `llm.redact` knows.
Other secrets are registered by the packages that hold them (`add_secrets`) and taken out
verbatim.
"""

import logging
from collections.abc import Callable, Iterable

from .llm.redact import REDACTED, redact

MIN_SECRET = 6  # Shorter values are too common to take out of every line.

# Functions returning the secrets a package holds now (from memory: called per line).
SECRET_SOURCES: list[Callable[[], Iterable[str]]] = []


def add_secrets(source: Callable[[], Iterable[str]]) -> None:
    """Take these secrets out of every log line too (called once, at start-up)."""
    if source not in SECRET_SOURCES:
        SECRET_SOURCES.append(source)


class RedactingFormatter(logging.Formatter):
    """A Formatter whose whole output, traceback included, goes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        from django.conf import settings

        key = getattr(settings, "LLM_API_KEY", "") if settings.configured else ""
        text = redact(super().format(record), key)
        for source in SECRET_SOURCES:
            for secret in source():
                if len(secret) >= MIN_SECRET and secret in text:
                    text = text.replace(secret, REDACTED)
        return text
