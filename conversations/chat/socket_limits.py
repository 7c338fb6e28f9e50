"""One socket's share of the limits: its slot among its user's sockets, its frame rate, and
the per-user rates of the frames it sends (docs/protocol.md, "Limits")."""

import re
import uuid

from django.conf import settings

from ..errors import rate_limited, retry_seconds
from ..limits import rate_limits
from . import frames, outbound
from .socket_slots import RETRY_AFTER, SocketSlots

TOO_MANY = 4429  # Close code: over a limit (too many sockets, or frames sent while refused).
# A refused frame's client_id, found without decoding the frame (linear in its length).
CLIENT_ID = re.compile(r'"client_id"\s*:\s*"([^"\\]{1,100})"')

# What a frame's limit class (frames.CLIENT) costs its user, per user across sockets and
# processes. Turns are limited where they start (limits/turn_limits.py).
RATES = {"read": rate_limits.READS, "write": rate_limits.WRITES}


class SocketLimits:
    """Limits as one socket meets them."""

    def __init__(self, user_id: int, slots: SocketSlots) -> None:
        self.user_id = user_id
        self.slots = slots
        self.id = uuid.uuid4().hex
        self.counted = False
        self.refused = 0  # Frames refused in a row: a client that ignores them is closed.

    async def open(self) -> dict | None:
        """Take one of the user's socket slots; the error frame to send if none is free."""
        if await self.slots.take(self.user_id, self.id):
            self.counted = True
            return None
        most = settings.CHAT_MAX_SOCKETS_PER_USER
        return outbound.error(
            "rate_limited",
            f"You have {most} chat tabs or windows open, the most allowed: close one, "
            "then reload this page.",
            retry_after=retry_seconds(RETRY_AFTER),
            limit="sockets",
        )

    async def close(self) -> None:
        """The socket closed: its slot and its frame count go."""
        if self.counted:
            self.counted = False
            await self.slots.give_back(self.user_id, self.id)
        rate_limits.forget_local(rate_limits.FRAMES, self.id)

    def frame(self, text: str | None) -> dict | None:
        """Count one frame the socket sent; the error frame to answer if over its rate."""
        wait = rate_limits.hit_local(rate_limits.FRAMES, self.id)
        if wait is None:
            self.refused = 0
            return None
        self.refused += 1
        return outbound.error(
            "rate_limited",
            rate_limits.refusal_text(rate_limits.FRAMES, wait),
            client_id=_client_id(text),
            retry_after=retry_seconds(wait),
            limit="frames",
        )

    @property
    def flooding(self) -> bool:
        """The client went on sending a whole minute's worth of frames while refused."""
        return self.refused > max(settings.CHAT_SOCKET_FRAMES_PER_MINUTE, 1)

    async def check(self, kind: str) -> None:
        """Count a frame against its user's rate for its type; refuse when over it."""
        spec = frames.CLIENT.get(kind)
        rate = RATES.get(spec.limit) if spec is not None else None
        if rate is None:
            return
        wait = await rate_limits.ahit(rate, self.user_id)
        if wait is not None:
            raise rate_limited(rate_limits.refusal_text(rate, wait), wait, limit=rate.name)


def _client_id(text: str | None) -> str | None:
    """The client_id of a refused `chat.send`, so the page can give its text back."""
    found = CLIENT_ID.search(text) if text else None
    return found.group(1) if found else None
