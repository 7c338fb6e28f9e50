"""Request rates: per user (reads, writes, bulk work), per socket (frames) and per client
address (sign-ups, keyed by accounts.signup_key).

The counting is `limits`' moving window: a hit is refused while the window (a minute, or
an hour for bulk work) already holds the allowed number, and the oldest hit in it says
exactly when to retry. A user's (and an address's) counts live in Redis when REDIS_URL is set, so they hold
across server processes (Lua scripts make each check-and-count atomic); without Redis
there is one process and its memory is exact. A socket's frame count is always kept in
its own process's memory: a socket lives in one process.

Turns are limited elsewhere, in the transaction that starts them (limits/turn_limits.py).
"""

import asyncio
import time
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

KEY_PREFIX = "chat:limits"


@dataclass(frozen=True)
class Rate:
    """A named rate: how many a minute (or hour) the setting allows."""

    name: str  # As error frames and responses name it ("limit").
    setting: str
    hourly: bool = False

    def item(self) -> RateLimitItem | None:
        """The current limit, or None when the setting turns it off (0)."""
        amount = getattr(settings, self.setting)
        if amount <= 0:
            return None
        return (RateLimitItemPerHour if self.hourly else RateLimitItemPerMinute)(amount)


READS = Rate("reads", "CHAT_READS_PER_MINUTE")
WRITES = Rate("writes", "CHAT_WRITES_PER_MINUTE")
BULK = Rate("bulk", "CHAT_BULK_PER_HOUR", hourly=True)
FRAMES = Rate("frames", "CHAT_SOCKET_FRAMES_PER_MINUTE")
SIGNUPS = Rate("signups", "CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS", hourly=True)
TOOL_CALLS = Rate("tool_calls", "CHAT_TOOL_CALLS_PER_MINUTE")
SHARED_PAGES = Rate("shared_pages", "CHAT_SHARE_VIEWS_PER_MINUTE")  # Per client address.

MESSAGES = {
    "reads": "That is more than {amount} reads a minute",
    "writes": "That is more than {amount} changes a minute",
    "bulk": "That is more than {amount} exports and imports an hour",
    "frames": "This tab sent more than {amount} requests a minute",
    "signups": "That is more than {amount} new accounts an hour from your network",
    "tool_calls": "That is more than {amount} tool calls a minute",
    "shared_pages": "That is more than {amount} shared pages a minute from your network",
}


def refusal_text(rate: Rate, retry_after: float) -> str:
    """Words for the user: which limit, and when to try again."""
    from ..errors import wait_text

    amount = getattr(settings, rate.setting)
    return f"{MESSAGES[rate.name].format(amount=amount)}. Try again in {wait_text(retry_after)}."


_memory = MemoryStorage()
_local = MovingWindowRateLimiter(_memory)  # Sockets' frames; users' rates without Redis.
_shared: tuple[str, MovingWindowRateLimiter] | None = None
_shared_async: dict[asyncio.AbstractEventLoop, tuple[str, AsyncMovingWindow]] = {}


def _limiter() -> MovingWindowRateLimiter:
    """Users' rates for synchronous code (views)."""
    global _shared
    url = settings.REDIS_URL
    if not url:
        return _local
    if _shared is None or _shared[0] != url:
        _shared = (url, MovingWindowRateLimiter(RedisStorage(url, key_prefix=KEY_PREFIX)))
    return _shared[1]


def _async_limiter() -> MovingWindowRateLimiter | AsyncMovingWindow:
    """Users' rates for the event loop: Redis without blocking it, or memory (no I/O)."""
    url = settings.REDIS_URL
    if not url:
        return _local
    loop = asyncio.get_running_loop()
    known = _shared_async.get(loop)
    if known is None or known[0] != url:
        for old in [other for other in _shared_async if other.is_closed()]:
            del _shared_async[old]
        storage = AsyncRedisStorage(f"async+{url}", key_prefix=KEY_PREFIX, implementation="redispy")
        known = _shared_async[loop] = (url, AsyncMovingWindow(storage))
    return known[1]


def _wait(reset_at: float) -> float:
    return max(reset_at - time.time(), 0.0)


def hit(rate: Rate, key: str | int) -> float | None:
    """Count one request; None if allowed, else the seconds until one more is."""
    item = rate.item()
    if item is None:
        return None
    limiter = _limiter()
    if limiter.hit(item, rate.name, str(key)):
        return None
    return _wait(limiter.get_window_stats(item, rate.name, str(key)).reset_time)


async def ahit(rate: Rate, key: str | int) -> float | None:
    """`hit`, from the event loop."""
    item = rate.item()
    if item is None:
        return None
    limiter = _async_limiter()
    if isinstance(limiter, AsyncMovingWindow):
        allowed = await limiter.hit(item, rate.name, str(key))
        _raise_if_cancelled()
        if allowed:
            return None
        stats = await limiter.get_window_stats(item, rate.name, str(key))
        _raise_if_cancelled()
        return _wait(stats.reset_time)
    return hit(rate, key)


def _raise_if_cancelled() -> None:
    """Deliver a cancellation that redis-py swallowed: on Python 3.11 it sends each command
    under asyncio.wait_for, which drops a cancellation that comes as the send ends, and a
    stopped turn would run on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def hit_local(rate: Rate, key: str) -> float | None:
    """`hit`, counted in this process only (a socket's frames)."""
    item = rate.item()
    if item is None:
        return None
    if _local.hit(item, rate.name, key):
        return None
    return _wait(_local.get_window_stats(item, rate.name, key).reset_time)


def forget_local(rate: Rate, key: str) -> None:
    """Drop a closed socket's count (it would expire within the window anyway)."""
    item = rate.item()
    if item is not None:
        _local.clear(item, rate.name, key)


def reset() -> None:
    """Forget every count (tests: each starts afresh)."""
    _memory.reset()
    if settings.REDIS_URL:
        _limiter().storage.reset()
