"""The console's formatter takes the provider's key out of every line it writes, traceback
included, whatever logged it."""

import logging
import sys

from conversations.log_redaction import RedactingFormatter

# Short, lower-case and without a known prefix: only the configured key marks it.
KEY = "opensesame42"


def failing_record() -> logging.LogRecord:
    try:
        raise ValueError(f"the library quoted {KEY} back")
    except ValueError:
        return logging.LogRecord(
            "some.library", logging.ERROR, __file__, 1, "request with %s", (KEY,), sys.exc_info()
        )


def test_the_configured_key_leaves_the_message_and_the_traceback(settings):
    settings.LLM_API_KEY = KEY
    line = RedactingFormatter("%(levelname)s %(message)s").format(failing_record())
    assert KEY not in line
    assert line.startswith("ERROR request with ")
    assert "ValueError: the library quoted" in line


def test_text_without_the_key_is_left_as_it_is(settings):
    settings.LLM_API_KEY = "a-different-key-altogether"
    line = RedactingFormatter("%(message)s").format(failing_record())
    assert line.startswith(f"request with {KEY}\n")


def test_the_console_handler_formats_with_it(settings):
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "redacting"
    console = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    assert isinstance(console.formatter, RedactingFormatter)
