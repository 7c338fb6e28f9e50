"""A request refused as the client's fault is logged in one line; a server error keeps its
traceback."""

import logging
import sys

from conversations.log_filters import NoTracebackForClientErrors


def record(status: int | None) -> logging.LogRecord:
    try:
        raise PermissionError("not yours")
    except PermissionError:
        made = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden", (), sys.exc_info()
        )
    if status is not None:
        made.status_code = status
    return made


def test_a_client_error_loses_its_traceback_and_is_still_logged():
    refused = record(403)
    logging.Formatter().format(refused)  # As a handler would: exc_text is filled in.
    assert refused.exc_text
    assert NoTracebackForClientErrors().filter(refused) is True
    assert refused.exc_info is None and refused.exc_text is None
    assert "Traceback" not in logging.Formatter().format(refused)


def test_server_errors_and_other_records_keep_their_traceback():
    for kept in (record(500), record(None)):
        assert NoTracebackForClientErrors().filter(kept) is True
        assert kept.exc_info is not None
        assert "PermissionError: not yours" in logging.Formatter().format(kept)


def test_the_console_handler_uses_it(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["client_errors"]
    assert (
        settings.LOGGING["filters"]["client_errors"]["()"]
        == "conversations.log_filters.NoTracebackForClientErrors"
    )
