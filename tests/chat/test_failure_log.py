"""An unexpected failure is logged with where it failed and what kind it was, never with
its message, which may quote what the user wrote."""

import logging

from conversations.chat.failure_log import MAX_CHAIN, log_failure

SECRET = "the user's private words"


def logged(caplog, exc: BaseException) -> tuple[str, str]:
    logger = logging.getLogger("tests.failure_log")
    with caplog.at_level(logging.ERROR, logger="tests.failure_log"):
        error_id = log_failure(logger, "Saving a reply", exc)
    return error_id, caplog.records[-1].getMessage()


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_the_kind_and_the_stack_are_logged_and_the_message_is_not(caplog):
    error_id, text = logged(caplog, raised(UnicodeError(SECRET)))
    assert text.startswith(f"Saving a reply failed: error {error_id}, UnicodeError\n")
    assert "raise exc" in text and "UnicodeError: (withheld)" in text
    assert SECRET not in text
    assert len(error_id) == 12 and error_id != logged(caplog, raised(ValueError()))[0]


def test_causes_are_followed_without_their_messages(caplog):
    class StoreError(Exception):
        pass

    try:
        try:
            raise ValueError(SECRET)
        except ValueError as inner:
            raise StoreError(SECRET) from inner
    except StoreError as outer:
        _, text = logged(caplog, outer)
    assert SECRET not in text
    assert text.count("while handling:") == 1
    # A kind of the app's (or a library's) is named with its module; a builtin's is not.
    assert text.splitlines()[0].endswith(f"{__name__}.{StoreError.__qualname__}")
    assert "StoreError: (withheld)" in text and "ValueError: (withheld)" in text


def test_a_cycle_or_a_long_chain_stops(caplog):
    first, second = raised(ValueError(SECRET)), raised(KeyError(SECRET))
    first.__context__, second.__context__ = second, first
    _, text = logged(caplog, first)
    assert text.count("Traceback (most recent call last)") == 2

    chain = raised(ValueError("0"))
    for n in range(1, MAX_CHAIN + 5):
        newer = raised(ValueError(str(n)))
        newer.__cause__ = chain
        chain = newer
    _, text = logged(caplog, chain)
    assert text.count("Traceback (most recent call last)") == MAX_CHAIN
