"""Channels' in-memory channel layer (one server process, no Redis), made to scale with sockets.

Two costs of the stock layer grew with the number of open sockets, on every frame:
- every receive and group_send walked every channel and group to drop expired ones;
  here that sweep runs at most once a second;
- every message was deep-copied once per receiving channel; frames are built afresh
  for each publish and never changed after, so receivers share one.
"""

import asyncio
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as StockInMemoryChannelLayer

CLEAN_INTERVAL = 1.0


class InMemoryChannelLayer(StockInMemoryChannelLayer):
    """The stock in-memory layer, less its per-frame costs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_clean = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now >= self._next_clean:
            self._next_clean = now + CLEAN_INTERVAL
            super()._clean_expired()

    async def send(self, channel: str, message: dict) -> None:
        """Send a message onto a channel (shared, not copied: receivers must not change it)."""
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        queue = self.channels.setdefault(channel, asyncio.Queue(maxsize=self.get_capacity(channel)))
        try:
            queue.put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None
