"""Request rates: a moving window per user (or address, or socket) that refuses the hit
past the setting and says how long until the oldest one leaves it; 0 turns a rate off."""

import pytest

from conversations.limits import rate_limits
from conversations.limits.rate_limits import BULK, FRAMES, WRITES


def test_a_rate_is_per_minute_or_hour_and_off_at_zero(settings):
    settings.CHAT_WRITES_PER_MINUTE, settings.CHAT_BULK_PER_HOUR = 60, 20
    assert (WRITES.item().amount, WRITES.item().get_expiry()) == (60, 60)
    assert (BULK.item().amount, BULK.item().get_expiry()) == (20, 3600)
    settings.CHAT_WRITES_PER_MINUTE = 0
    assert WRITES.item() is None
    assert all(rate_limits.hit(WRITES, 1) is None for _ in range(1000))


def test_hits_past_the_rate_are_refused_per_key_until_the_window_moves(settings):
    settings.CHAT_WRITES_PER_MINUTE = 2
    assert rate_limits.hit(WRITES, 1) is None and rate_limits.hit(WRITES, 1) is None
    wait = rate_limits.hit(WRITES, 1)
    assert wait is not None and 0 < wait <= 60
    assert rate_limits.hit(WRITES, 2) is None  # Another user's count is their own.
    rate_limits.reset()
    assert rate_limits.hit(WRITES, 1) is None


async def test_from_the_event_loop_the_count_is_the_same(settings):
    settings.CHAT_WRITES_PER_MINUTE = 1
    assert await rate_limits.ahit(WRITES, "loop") is None
    assert rate_limits.hit(WRITES, "loop") is not None  # One count, whoever asks.


def test_a_sockets_frames_are_counted_in_its_process_and_forgotten_when_it_closes(settings):
    settings.CHAT_SOCKET_FRAMES_PER_MINUTE = 1
    assert rate_limits.hit_local(FRAMES, "socket-a") is None
    assert rate_limits.hit_local(FRAMES, "socket-a") is not None
    rate_limits.forget_local(FRAMES, "socket-a")
    assert rate_limits.hit_local(FRAMES, "socket-a") is None


@pytest.mark.parametrize(
    ("rate", "setting", "words"),
    [
        (WRITES, "CHAT_WRITES_PER_MINUTE", "That is more than 2 changes a minute. Try again in 2 min."),
        (FRAMES, "CHAT_SOCKET_FRAMES_PER_MINUTE", "This tab sent more than 2 requests a minute. Try again in 2 min."),
    ],
)  # fmt: skip
def test_a_refusal_says_which_limit_and_when(settings, rate, setting, words):
    setattr(settings, setting, 2)
    assert rate_limits.refusal_text(rate, 95) == words
