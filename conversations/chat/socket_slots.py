"""How many websockets each user has open, across server processes (CHAT_MAX_SOCKETS_PER_USER).

Checked when a socket connects, never on a turn's path. With Redis (REDIS_URL) each user
has one sorted set of their sockets, each scored with the moment its note expires; one
Lua script drops expired notes, counts and adds, so two processes can never both take a
user's last slot. Each process renews its own sockets' notes (the runtime, every 20 s),
so the notes of a process that died expire within SLOT_TTL. Without Redis there is one
server process, and its own count is exact.
"""

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from django.conf import settings

from .broadcast import redis_client

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger(__name__)

SLOT_TTL = 60.0
RETRY_AFTER = 30.0  # When another tab will close is unknown: try again in a while.

# KEYS[1]: the user's set. ARGV: now, this note's expiry, the limit, the socket, key TTL.
# A socket already counted keeps its slot: redis-py runs a command again after a
# connection error, and a second run must not count the socket against itself.
TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def _key(user_id: int) -> str:
    return f"chat:sockets:{user_id}"


class SocketSlots:
    """This process's sockets by user, and (with Redis) every process's count."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.mine: dict[int, set[str]] = {}
        self._redis = None
        self._take = None
        if settings.REDIS_URL:
            self._redis = redis_client(socket_timeout=5)
            self._take = self._redis.register_script(TAKE)

    async def take(self, user_id: int, socket_id: str) -> bool:
        """Count a socket that connects; False when its user has all their sockets open."""
        limit = settings.CHAT_MAX_SOCKETS_PER_USER
        if limit > 0:
            if self._redis is None:
                if len(self.mine.get(user_id, ())) >= limit:
                    return False
            else:
                now = time.time()
                try:
                    taken = await self._take(
                        keys=[_key(user_id)],
                        args=[now, now + SLOT_TTL, limit, socket_id, int(SLOT_TTL * 2)],
                    )
                except Exception:  # Without Redis nothing works anyway: let the socket in.
                    logger.exception("Could not count a user's sockets")
                    taken = 1
                if not taken:
                    return False
        self.mine.setdefault(user_id, set()).add(socket_id)
        return True

    async def give_back(self, user_id: int, socket_id: str) -> None:
        """A counted socket closed."""
        sockets = self.mine.get(user_id)
        if not sockets or socket_id not in sockets:
            return
        sockets.discard(socket_id)
        if not sockets:
            del self.mine[user_id]
        if self._redis is not None:
            try:
                await self._redis.zrem(_key(user_id), socket_id)
            except Exception:  # Its note expires within SLOT_TTL anyway.
                logger.exception("Could not uncount a closed socket")

    async def refresh(self) -> None:
        """Renew the notes of this process's sockets (the runtime calls this)."""
        if self._redis is None or not self.mine:
            return
        expires = time.time() + SLOT_TTL
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, sockets in self.mine.items():
                pipe.zadd(_key(user_id), dict.fromkeys(sockets, expires))
                pipe.expire(_key(user_id), int(SLOT_TTL * 2))
            await pipe.execute()

    async def close(self) -> None:
        if self._redis is not None:
            await asyncio.shield(self._redis.aclose())
