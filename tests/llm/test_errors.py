"""A provider's failure as a user reads it: a short message per status, the provider's own
words kept for staff, and when to try again."""

import pytest

from conversations.llm.errors import LLMError, error_text, from_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "message", "retryable"),
    [
        (401, "The model provider rejected the API key.", False),
        (402, "The model provider account has run out of credit.", False),
        (403, "The model provider refused access to this model.", False),
        (404, "The model provider does not know this model.", False),
        (422, "The model provider rejected the request.", False),
        (429, "Rate limited by the model provider, try again shortly.", True),
        (503, "The model provider had an error (HTTP 503).", True),
        (409, "The model provider answered HTTP 409.", True),
    ],
)
def test_each_status_has_its_message(status, message, retryable):
    error = from_status(status, b'{"error": {"message": "upstream words"}}', {})
    assert (error.user_message, error.status, error.retryable) == (message, status, retryable)
    assert error.detail == f"HTTP {status}: upstream words"


def test_a_rate_limit_says_when_to_try_again():
    error = from_status(429, b"slow down", {"retry-after": "7.4"})
    assert error.user_message == "Rate limited, try again in 7 s."
    assert error.retry_after == 7.4 and error.detail == "HTTP 429: slow down"


def test_retry_after_in_milliseconds_wins_and_dates_are_ignored():
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None
    assert parse_retry_after({"retry-after": "-1"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"error": {"message": "bad model"}}, "bad model"),
        ({"error": "plain"}, "plain"),
        ({"message": "top level"}, "top level"),
        ({"detail": [{"loc": ["body"], "msg": "field required"}]}, '[{"loc": ["body"], "msg": '),
        ("just text", "just text"),
    ],
)
def test_the_providers_words_from_any_shape(payload, text):
    assert error_text(payload).startswith(text)


def test_a_body_that_is_not_json_or_too_deep_is_kept_as_text():
    deep = b"[" * 100_000
    assert from_status(500, deep, {}).detail.startswith("HTTP 500: [[[")
    assert len(from_status(500, b"x" * 10_000, {}).detail) == len("HTTP 500: ") + 2000


def test_only_a_refusal_to_stream_is_one():
    assert LLMError("x", detail="stream is not supported", status=400).refused_streaming
    assert not LLMError("x", detail="stream is not supported", status=500).refused_streaming
    assert not LLMError("x", detail="bad temperature", status=400).refused_streaming
