"""A turn running in this process: the reply streaming now, how far its frames got, what
it waits for, and the flags its stop and its end read. `lifecycle` starts and ends it;
`generation` and `streaming` fill it; `runtime` saves it and answers for it."""

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..models import Conversation, Message
from ..turns import running as running_turns
from .blocks import BlockSplitter
from .frames.process import ChatSnapshot
from .text import TextBuffer

if TYPE_CHECKING:
    from .runtime import Runtime


@dataclass
class Wait:
    """What a streaming reply waits for: the provider's first (or next) words, or the next
    try of a request the provider refused for now (`message.waiting`)."""

    state: str  # "waiting" or "retrying"
    since: float  # Loop time the silence began (waiting).
    until: float  # Loop time of the next try (retrying).
    reason: str = ""
    sent: bool = False  # Its frame has gone out.

    def shown(self, now: float) -> dict:
        """The frame's fields: seconds silent so far, or left until the next try."""
        seconds = now - self.since if self.state == "waiting" else self.until - now
        shown: dict = {"state": self.state, "seconds": max(0, round(seconds))}
        if self.reason:
            shown["reason"] = self.reason
        return shown


@dataclass(eq=False)
class Turn:
    """A turn running in this process: the reply streaming now, and how far frames got."""

    conversation_id: int
    user_id: int
    process: "Runtime"
    conversation: Conversation | None = None
    message_id: int | None = None  # The assistant message streaming now; None between.
    tail: Message | None = None  # The turn's latest saved message (tool rounds).
    content: TextBuffer = field(default_factory=TextBuffer)
    reasoning: TextBuffer = field(default_factory=TextBuffer)
    seq: int = 0  # Frames sent for the current message.
    sent_content: int = 0  # How much of `content` frames have carried.
    sent_reasoning: int = 0
    blocks: BlockSplitter | None = None
    blocks_html: list[str] = field(default_factory=list)  # Finished blocks, as sent.
    record: dict | None = None  # What the current reply's request was made of.
    resumed: Message | None = None  # A continued reply, as it was before (see begin).
    record_saved: bool = False
    saved: tuple[int, int] = (0, 0)  # Lengths of content and reasoning last saved.
    leased: bool = True
    stop_requested: bool = False
    lost: bool = False  # Another process took the lease: this one must not finish it.
    cancelled: bool = False  # The process is shutting down under the turn.
    phase: str = "reply"  # "reply" or "tools".
    heard: float = 0.0  # Loop time the provider was last heard from (or the request left).
    waiting: Wait | None = None  # The reply waits for its provider, and watchers know.
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    announced: asyncio.Event = field(default_factory=asyncio.Event)  # The start is published.
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # The first request has left.
    # The first delta has gone to this process's sockets (or the turn ended): the turn's
    # Redis work, held until then, may run (broadcast.Hub.hold_remote).
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)
    # Tool calls waiting for the user's approval, by call id (chat/approvals.py).
    approvals: dict = field(default_factory=dict)
    task: asyncio.Task | None = None
    reading: asyncio.Task | None = None  # The upstream read of the current reply.
    # A compare: the other replies written at once, each a turn of its own streaming under
    # this one's lease and task; this one releases the lease once all have ended.
    siblings: list["Turn"] = field(default_factory=list)
    compare: dict | None = None  # Its reply's `compare` as frames carry it.
    releases_on_finish: bool = True  # False in a compare: its reply's end keeps the lease.

    def begin(
        self, message_id: int, record: dict | None, *, resumed: Message | None = None
    ) -> None:
        """Start streaming into an assistant message: a new one, or `resumed`, continued.

        A continued reply's text is already on every screen: it seeds the buffers as sent,
        and the Markdown blocks it finished are its first finished blocks, so frames,
        snapshots and the final save are of the whole reply.
        """
        from ..rendering.markdown import ReplyRenderer

        self.message_id = message_id
        self.content, self.reasoning = TextBuffer(), TextBuffer()
        self.seq = self.sent_content = self.sent_reasoning = 0
        self.blocks, self.blocks_html = BlockSplitter(ReplyRenderer()), []
        self.record, self.record_saved, self.saved = record, False, (0, 0)
        self.phase = "reply"
        self.heard, self.waiting = self.process.loop.time(), None
        self.resumed = resumed
        if resumed is not None:
            self.content.append(resumed.content)
            self.reasoning.append(resumed.reasoning)
            self.content.take_unsent()
            self.reasoning.take_unsent()
            self.sent_content, self.sent_reasoning = len(self.content), len(self.reasoning)
            self.saved = (self.sent_content, self.sent_reasoning)
            self.blocks.feed(resumed.content)
            finished = self.blocks.split()
            if finished is not None:
                self.blocks_html.append(finished)

    def request_stop(self, *, lost: bool = False) -> None:
        """Stop after what has streamed so far; safe at any moment, even before the start."""
        self.stop_requested = True
        self.lost = self.lost or lost
        self.stopping.set()
        if self.reading is not None:
            self.reading.cancel()

    def everyone(self) -> list["Turn"]:
        """This turn and, in a compare, the turns of the other replies."""
        return [self, *self.siblings]

    def stop_all(self, *, lost: bool = False) -> None:
        """Stop every reply this turn writes (a compare's, all of them)."""
        for turn in self.everyone():
            turn.request_stop(lost=lost)

    def sibling(self, message_id: int) -> "Turn | None":
        """The turn of this reply (one of a compare's), if it is this turn's."""
        return next((t for t in self.everyone() if t.message_id == message_id), None)

    def wait(self, *, state: str, seconds: float, reason: str = "") -> None:
        """Note that the reply waits: silent for `seconds` so far, or retried in `seconds`."""
        now = self.process.loop.time()
        if state == "waiting":
            self.waiting = Wait(state, since=now - seconds, until=now, reason=reason)
        else:
            self.waiting = Wait(state, since=now, until=now + seconds, reason=reason)

    def snapshot(self) -> ChatSnapshot:
        """The current reply as the frames so far have shown it: text, finished blocks, seq,
        and what it waits for, if its watchers were told."""
        waiting = self.waiting
        return ChatSnapshot(
            conversation=self.conversation_id,
            message=self.message_id,
            content=self.content.text()[: self.sent_content],
            reasoning=self.reasoning.text()[: self.sent_reasoning],
            seq=self.seq,
            stable=self.blocks.stable if self.blocks else 0,
            html="".join(self.blocks_html),
            waiting=waiting.shown(self.process.loop.time())
            if waiting is not None and waiting.sent
            else None,
        )

    def take_progress(self) -> running_turns.Progress | None:
        """The current reply's unsaved text (and record), marked saved; None if nothing new."""
        if self.message_id is None:
            return None
        lengths = (len(self.content), len(self.reasoning))
        if lengths == self.saved and self.record_saved:
            return None
        self.saved = lengths
        record, self.record_saved = (None if self.record_saved else self.record), True
        return running_turns.Progress(
            self.message_id, self.content.text(), self.reasoning.text(), record
        )

    def progress_failed(self, progress: running_turns.Progress) -> None:
        """A save that failed is tried again with the next one."""
        if progress.message_id == self.message_id:
            self.saved = (-1, -1)
            self.record_saved = self.record_saved and progress.request is None
