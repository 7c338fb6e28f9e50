"""The console log's last line of defence: no line leaves with the provider's key in it.

The LLM client already cleans every error it raises; this catches whatever else might quote
the key (a third-party library's exception, a traceback) in any form `llm.redact` knows.
"""

import logging

from .llm.redact import redact


class RedactingFormatter(logging.Formatter):
    """A Formatter whose whole output, traceback included, goes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        from django.conf import settings

        key = getattr(settings, "LLM_API_KEY", "") if settings.configured else ""
        return redact(super().format(record), key)
