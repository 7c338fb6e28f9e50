"""Text that grows piece by piece, as a streaming reply does."""


class TextBuffer:
    """Appends cost O(1); the whole text is joined only when asked for.

    `str +=` on a long reply copies it on every token (the reply times the tokens,
    quadratic); here the pieces are kept and joined once per read.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._unsent: list[str] = []
        self._length = 0

    def append(self, text: str) -> None:
        """Add text at the end."""
        if text:
            self._parts.append(text)
            self._unsent.append(text)
            self._length += len(text)

    def take_unsent(self) -> str:
        """The text added since the last call."""
        text = "".join(self._unsent)
        self._unsent.clear()
        return text

    def text(self) -> str:
        """The whole text."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def __len__(self) -> int:
        return self._length
