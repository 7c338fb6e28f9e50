"""The temporary chats one socket has open, closed as it leaves them.

A temporary chat is closed (and so deleted at the runner's next run, deletion/
temporary.py) when the socket showing it leaves it: it opens another conversation, starts
a new one (`conversation.close` as the page turns to a new chat, or the new chat's first
`chat.send`), or disconnects (the tab closed or reloaded). Opening it again before the runner
ran reopens it, so a page that reconnects keeps its chat. A socket that never showed a
temporary chat costs nothing here: no query.
"""

from channels.db import database_sync_to_async as db

from .. import services


class TemporaryChats:
    """One socket's open temporary chats."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.open: set[int] = set()

    def started(self, conversation_id: int) -> None:
        """A temporary chat this socket just began."""
        self.open.add(conversation_id)

    async def opened(self, conversation_id: int, *, temporary: bool) -> None:
        """The socket shows this conversation now: every other temporary chat it showed is
        left; this one, if temporary, is open (again)."""
        await self.leave(keep=conversation_id)
        if temporary:
            self.open.add(conversation_id)
            await db(services.temporary_reopen)(
                owner_id=self.user_id, conversation_id=conversation_id
            )

    async def close(self, conversation_id: int) -> None:
        """Close this temporary chat of the user's (the page left it for a new chat); a
        saved one is untouched."""
        self.open.discard(conversation_id)
        await db(services.temporary_close)(
            owner_id=self.user_id, conversation_ids=[conversation_id]
        )

    async def leave(self, *, keep: int | None = None) -> None:
        """Close every temporary chat this socket showed but `keep`."""
        left = self.open - {keep}
        if not left:
            return
        self.open -= left
        await db(services.temporary_close)(owner_id=self.user_id, conversation_ids=left)
