"""What the console log keeps of a request the app refused as the client's fault.

Django logs a 403 (PermissionDenied: a reviewer opening an admin page outside their
permissions, say) and a 400 (SuspiciousOperation) with the exception's traceback. The
refusal is the app working as meant, not a failure to debug: one line says what was
refused and where, and a traceback is kept for server errors (5xx) only.
"""

import logging


class NoTracebackForClientErrors(logging.Filter):
    """Drops the traceback of a record about a response under 500; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)  # Set by Django's request logging.
        if isinstance(status, int) and status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
