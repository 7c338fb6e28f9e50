"""What rendering one message may cost, what is shown when it would cost more, and the
cache of rendered messages, bounded in bytes.

A reply is model output: nothing in it may make rendering unbounded. Every rendering runs
under a RenderBudget. The cheap, deterministic limits (formulas, highlighted code, HTML
made) are counted as the parser and renderer reach them; CPU time is the backstop for
anything else, checked cooperatively (every few hundred tokens, before each formula and
code block). Past any of them the whole message is shown as its escaped text, after a
note: the same text always renders the same way whatever the server's load, but for the
CPU-time backstop, which only content no limit here foresees should ever reach.
"""

import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass
from html import escape
from threading import Lock

from cachetools import LRUCache

# Text longer than this is not parsed at all (CHAT_MAX_REPLY_CHARS' default).
RENDER_MAX_CHARS = 2_000_000
# CPU seconds one message may take: this much, plus RENDER_SECONDS_PER_MB per million
# characters. About twice what an ordinary reply of that length costs (a 1 MB reply of
# prose, lists, code, tables and some math took 2.5-2.9 s on a 2-core test machine).
RENDER_SECONDS = 1.0
RENDER_SECONDS_PER_MB = 4.0
# Formulas converted to MathML in one message: a reply with more is shown as text (each
# costs some 40 µs, and its MathML is forty times its TeX).
RENDER_MAX_FORMULAS = 10_000
# Characters of code highlighted in one message; code blocks past it are shown unhighlighted.
RENDER_MAX_HIGHLIGHT_CHARS = 300_000
# Characters of HTML one message may become (a 1 MB ordinary reply makes about 4 MB).
RENDER_MAX_HTML_CHARS = 10_000_000
# The cache of rendered messages: its bytes (text and HTML, as Python holds them), and
# the largest share of it one message may take (larger ones are rendered each time).
RENDER_CACHE_BYTES = 64 * 1024 * 1024
RENDER_CACHE_ENTRY_SHARE = 8

PLAIN_NOTE = "This reply is too large to format; shown as plain text."
_TICKS = 256  # Parser and renderer steps between two looks at the clock.


class TooCostly(Exception):
    """Rendering went past its budget; the message is shown as plain text."""


@dataclass
class RenderBudget:
    """What rendering may still spend. One per message, or one for a whole streamed reply
    whose blocks are rendered one by one (`allow` adds each block's share of time)."""

    seconds: float = RENDER_SECONDS
    formulas: int = RENDER_MAX_FORMULAS
    highlight_chars: int = RENDER_MAX_HIGHLIGHT_CHARS
    html_chars: int = RENDER_MAX_HTML_CHARS
    deadline: float = 0.0  # In the rendering thread's CPU time, while it renders.
    ticks: int = 0

    @classmethod
    def for_text(cls, text: str) -> "RenderBudget":
        budget = cls()
        budget.allow(len(text))
        return budget

    def allow(self, chars: int) -> None:
        """Time for this many more characters of text."""
        self.seconds += RENDER_SECONDS_PER_MB * chars / 1_000_000

    def start(self) -> None:
        self.deadline = time.thread_time() + self.seconds

    def stop(self, started: float) -> None:
        self.seconds -= time.thread_time() - started

    def check(self) -> None:
        if time.thread_time() > self.deadline:
            raise TooCostly("time")

    def tick(self) -> None:
        """One step of the parser or renderer: the clock is read every _TICKS of them."""
        self.ticks += 1
        if self.ticks % _TICKS == 0:
            self.check()

    def formula(self) -> None:
        self.formulas -= 1
        if self.formulas < 0:
            raise TooCostly("formulas")

    def highlight(self, chars: int) -> bool:
        """Whether a code block this long may be highlighted (its characters are counted)."""
        self.check()
        if chars > self.highlight_chars:
            return False
        self.highlight_chars -= chars
        return True

    def output(self, chars: int) -> None:
        self.html_chars -= chars
        if self.html_chars < 0:
            raise TooCostly("html")


_current: ContextVar[RenderBudget | None] = ContextVar("render_budget", default=None)


def current() -> RenderBudget | None:
    """The budget of the rendering running in this thread (None outside one)."""
    return _current.get()


def spending(budget: RenderBudget, work):
    """Run `work()` under `budget` (its CPU time counted against it); TooCostly propagates."""
    token = _current.set(budget)
    started = time.thread_time()
    budget.start()
    try:
        return work()
    finally:
        budget.stop(started)
        _current.reset(token)


def plain_html(text: str, *, note: bool = True) -> str:
    """The text as the page shows a message too costly to format: escaped, lines kept."""
    shown = f'<div class="plain-text">{escape(text, quote=False)}</div>'
    return f'<p class="render-note">{PLAIN_NOTE}</p>{shown}' if note else shown


# ---- the cache ----


@dataclass(frozen=True)
class _Entry:
    html: str
    size: int


class RenderCache:
    """Rendered HTML by text, least recently used first out, bounded in bytes: each entry
    counts its text and its HTML. Thread-safe (pages render in threads, streams on the loop)."""

    def __init__(self, max_bytes: int = RENDER_CACHE_BYTES) -> None:
        self.max_entry = max_bytes // RENDER_CACHE_ENTRY_SHARE
        self._cache: LRUCache = LRUCache(max_bytes, getsizeof=lambda entry: entry.size)
        self._lock = Lock()

    @property
    def bytes(self) -> int:
        return self._cache.currsize

    def get(self, text: str) -> str | None:
        with self._lock:
            entry = self._cache.get(text)
        return entry.html if entry is not None else None

    def put(self, text: str, html: str) -> None:
        size = sys.getsizeof(text) + sys.getsizeof(html)
        if size > self.max_entry:
            return  # One huge message would push out many ordinary ones.
        with self._lock:
            self._cache[text] = _Entry(html, size)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
