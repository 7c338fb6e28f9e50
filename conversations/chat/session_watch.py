"""Keeping a socket's sign-in honest for as long as it is open.

A socket is signed in by the session cookie it was opened with, once. Afterwards the
session can end (logout, expiry, staff deleting it) and the account can change (deactivated,
new password, deleted). Each of those closes the socket with 4401, the code the page answers
by going to the sign-in page:

- logout, deactivation, a new password and deletion announce themselves (signals.py) to
  every socket of the user, through this process's hub and, with Redis, the other
  processes': the socket re-checks at once;
- anything else (expiry, a session deleted in the admin) is caught by a re-check every
  CHAT_SESSION_RECHECK_SECONDS;
- a session whose user has a second factor must have shown it, at the handshake and at
  every re-check (a factor enrolled on another device announces itself like a new password).

The per-frame cost is one attribute read: frames reaching a revoked socket are dropped.
"""

import asyncio
import logging
import random

from channels.db import database_sync_to_async
from django.conf import settings

from ..accounts import selectors as account_selectors
from ..accounts import two_factor
from .frames import frame_type
from .frames.process import SessionCheck, SessionEnded

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
# What signals.py sends a user's sockets. Internal: never forwarded to a browser.
SESSION_ENDED = frame_type(SessionEnded)  # A logout, with the session key it ended.
SESSION_CHECK = frame_type(SessionCheck)  # The account changed: is the session still good?
SESSION_EVENTS = frozenset({SESSION_ENDED, SESSION_CHECK})


async def session_may_open(consumer) -> bool:
    """The handshake's own check, beyond the signed-in session Channels found: a user with
    a second factor must have shown it in this session, and staff who must enrol one
    (CHAT_REQUIRE_2FA_FOR_STAFF) open no socket until they have (accounts/two_factor.py)."""
    session = consumer.scope["session"]
    state = await database_sync_to_async(two_factor.session_state)(
        session, user=consumer.scope["user"]
    )
    return state == two_factor.OK


class SessionWatch:
    """One consumer's sign-in: its session key, a revoked flag, and the periodic re-check."""

    def __init__(self, consumer) -> None:
        self.consumer = consumer
        self.session_key: str | None = consumer.scope["session"].session_key
        self.user_id: int = consumer.user.pk
        self.revoked = False
        self._wake = asyncio.Event()
        # Created while the consumer connects, so the checks run in the socket's own context
        # (not that of whoever announced a change: a signal's async_to_sync, say).
        self._watcher = asyncio.create_task(self._watch())

    def check_now(self) -> None:
        """Re-check once the socket listens for the announcements: a password change or a
        logout announced between the handshake's session read and joining the user's group
        would otherwise wait for the periodic re-check."""
        self._wake.set()

    def stop(self) -> None:
        if self._watcher is not asyncio.current_task():
            self._watcher.cancel()

    async def on_event(self, event: dict) -> None:
        """A session event for the user: close at once, or have the watcher re-check now."""
        if event["type"] == SESSION_ENDED:
            await self.session_ended(event.get("session_key") or "")
        else:
            self._wake.set()  # The hub delivering this to every socket does not wait for it.

    async def revoke(self) -> None:
        """Close the socket for good: nothing it sends is acted on, nothing more is sent."""
        if self.revoked:
            return
        self.revoked = True
        await self.consumer.close(code=UNAUTHENTICATED)
        self.stop()

    async def session_ended(self, session_key: str) -> None:
        """A logout: close the sockets opened with that session."""
        if session_key == self.session_key:
            await self.revoke()

    async def recheck(self) -> None:
        """Close the socket unless its session still signs its user in."""
        if self.revoked:
            return
        valid = await database_sync_to_async(account_selectors.session_signs_in)(
            session_key=self.session_key, user_id=self.user_id
        )
        if not valid:
            await self.revoke()

    async def _watch(self) -> None:
        """Re-check when woken by an event, and every CHAT_SESSION_RECHECK_SECONDS anyway."""
        while not self.revoked:
            # Jitter: sockets opened together do not all query at the same moment.
            interval = settings.CHAT_SESSION_RECHECK_SECONDS * random.uniform(0.8, 1.0)
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.recheck()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the watch
                logger.warning("Session re-check failed for a socket of user %s", self.user_id)
