"""Refusals as the protocol and HTTP carry them: a code, words for the user, and for a
limit when to try again, in whole seconds and in words."""

import pytest

from conversations.errors import TurnRefused, not_found, rate_limited, retry_seconds, wait_text


@pytest.mark.parametrize(("seconds", "whole"), [(0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (59.5, 60)])
def test_a_wait_is_whole_seconds_and_at_least_one(seconds, whole):
    assert retry_seconds(seconds) == whole


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.4, "1 s"), (89, "89 s"), (90, "2 min"), (3599, "60 min"), (5340, "89 min"),
     (5400, "1 h 30 min"), (86_400, "24 h 0 min")],
)  # fmt: skip
def test_a_wait_in_words(seconds, words):
    assert wait_text(seconds) == words


def test_a_limit_says_which_and_when():
    refused = rate_limited("Too many.", 2.5, limit="writes")
    assert isinstance(refused, TurnRefused)
    assert (refused.code, refused.message, refused.extra) == (
        "rate_limited",
        "Too many.",
        {"retry_after": 3, "limit": "writes"},
    )


def test_missing_and_someone_elses_read_the_same():
    refused = not_found("conversation")
    assert (refused.code, refused.message, refused.extra) == (
        "not_found",
        "That conversation does not exist.",
        {},
    )
    assert str(refused) == "That conversation does not exist."
