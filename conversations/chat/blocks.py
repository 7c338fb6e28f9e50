"""Streaming Markdown, block by block: each finished block is rendered once, when it ends.

While a reply streams, the text after the last finished block (the open block) can
still change meaning: a list can gain items, a code fence can close. Blocks before it
cannot. The splitter watches new text line by line and, when a line usually ends a
block (outside a code fence: a blank line or a fence; inside one: only its closing
fence), parses the open region with the same parser the final rendering uses (a block
that ends otherwise, a heading say, is finished at the next such line). Every top-level
block but the last is finished: rendered once, sent once, never rendered again. The
browser previews only the open block. Parsing backs off with its own cost, so a huge open
block (a very long code listing) never makes the work grow with the square of the reply.
"""

import re
import time
from collections.abc import Callable

from markdown_it.rules_core import StateCore, block, normalize

from ..rendering.markdown import md

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class BlockSplitter:
    """Finds the Markdown blocks of a streaming reply that later text can no longer change."""

    def __init__(self, render: Callable[[str], str]) -> None:
        self._render = render
        self._region: list[str] = []  # The reply's text after the last finished block.
        self._line = ""  # The line being written, not yet ended.
        self._fence: str | None = None  # The opening run of an unclosed code fence.
        self._may_split = False
        self._next_try = 0.0
        self.stable = 0  # Characters of the reply that finished blocks cover.

    def feed(self, text: str) -> None:
        """Take new text of the reply."""
        if not text:
            return
        self._region.append(text)
        lines = _NEWLINE.split(self._line + text)
        self._line = lines.pop()
        for line in lines:
            self._scan(line)

    def _scan(self, line: str) -> None:
        fence = _FENCE.match(line)
        if self._fence is None:
            if fence:
                self._fence = fence.group(1)
                self._may_split = True
            elif not line.strip():
                self._may_split = True
        elif (
            fence
            and fence.group(1)[0] == self._fence[0]
            and len(fence.group(1)) >= len(self._fence)
        ):
            if not line[fence.end() :].strip():
                self._fence = None
                self._may_split = True

    def split(self) -> str | None:
        """HTML for the blocks finished since the last call, or None."""
        now = time.monotonic()
        if not self._may_split or now < self._next_try:
            return None
        self._may_split = False
        region = "".join(self._region)
        ended = region.rfind("\n") + 1  # Parse whole lines only.
        if not ended:
            return None
        started = time.monotonic()
        starts = _block_starts(region[:ended])
        # Back off by what parsing cost, so it stays a small share however large the block.
        self._next_try = now + 4 * (time.monotonic() - started)
        if len(starts) < 2 or starts[-1] == 0:
            return None
        cut = _line_offset(region, starts[-1])
        self._region = [region[cut:]]
        self.stable += cut
        return self._render(region[:cut])

    def render_rest(self, text: str) -> str:
        """HTML for what the finished blocks do not cover of the reply's whole `text`."""
        return self._render(text[self.stable :])


def _block_starts(text: str) -> list[int]:
    """The line each top-level block of `text` starts on. Block rules only: where blocks
    end does not depend on their inline content, which a full parse (md.parse) would parse
    too, at several times the cost."""
    state = StateCore(text, md, {})
    normalize(state)
    block(state)
    return [t.map[0] for t in state.tokens if t.level == 0 and t.map]


def _line_offset(text: str, line: int) -> int:
    """Where line number `line` (counting from 0) starts in `text`."""
    if line == 0:
        return 0
    for number, match in enumerate(_NEWLINE.finditer(text), 1):
        if number == line:
            return match.end()
    return len(text)
