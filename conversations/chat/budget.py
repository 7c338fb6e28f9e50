"""Fitting a request into a model's context window: count, keep what must stay, drop oldest."""

import base64
import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tiktoken

from ..llm import ChatMessage, ToolSpec

# OpenAI's cl100k_base merges, shipped with the app because nothing may be fetched at
# run time. Its tokens are close to (not the same as) those of the open models served:
# estimates are corrected by what the provider reports (see `correction`).
ENCODING_FILE = Path(__file__).parent.parent / "data" / "cl100k_base.tiktoken.gz"
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
MESSAGE_OVERHEAD = 4  # Role and separators, per message.
DEFAULT_REPLY_RESERVE = 1024


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The tokenizer, loaded once."""
    ranks = {}
    with gzip.open(ENCODING_FILE, "rt", encoding="ascii") as lines:
        for line in lines:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name="cl100k_base", pat_str=CL100K_PATTERN, mergeable_ranks=ranks, special_tokens={}
    )


def count_tokens(text: str) -> int:
    """Tokens in a text."""
    return len(encoding().encode_ordinary(text)) if text else 0


def message_tokens(message: ChatMessage) -> int:
    """Tokens one message takes in a prompt. A file's text counts as the text it is; an
    image as its part's `tokens` (files.reading.image_tokens: OpenAI's published estimate
    for a detailed image, 85 plus 170 per 512-pixel tile)."""
    if isinstance(message.content, str):
        return _text_message_tokens(message)
    # Not remembered: the cache would hold the images' bytes.
    total = MESSAGE_OVERHEAD + count_tokens(message.text)
    return total + sum(image.tokens for image in message.images)


@lru_cache(maxsize=16_384)
def _text_message_tokens(message: ChatMessage) -> int:
    """Tokens of a message of text (remembered: a branch is counted once a turn for every
    message in it, and the messages rarely change)."""
    total = MESSAGE_OVERHEAD + count_tokens(message.content)
    if message.tool_calls:
        total += count_tokens(json.dumps([call.to_wire() for call in message.tool_calls]))
    return total


def tools_tokens(specs: list[ToolSpec]) -> int:
    """Tokens the offered tools' schemas take in a prompt."""
    return count_tokens(json.dumps([spec.to_wire() for spec in specs])) if specs else 0


def correction(*, estimated: int | None, reported: int | None) -> float:
    """How far off our count was last time, from the provider's own prompt_tokens."""
    if not estimated or not reported:
        return 1.0
    return min(max(reported / estimated, 0.5), 2.0)


def reply_reserve(*, max_tokens: int | None, window: int) -> int:
    """Room kept for the reply: its max_tokens, else a share of the window."""
    return max_tokens or min(DEFAULT_REPLY_RESERVE, window // 4)


class TooLarge(Exception):
    """Even the system prompt and the latest message do not fit."""

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"needs about {needed} tokens, {available} available")
        self.needed = needed
        self.available = available


@dataclass
class Fit:
    """What goes upstream, and what was left out."""

    messages: list[ChatMessage]
    sent: list[int] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)
    estimated_tokens: int = 0


def fit(
    *,
    system: ChatMessage | None,
    history: list[tuple[int, ChatMessage]],
    window: int,
    reserve: int,
    scale: float = 1.0,
) -> Fit:
    """Keep the system prompt and the latest turn; add older turns, newest first, while they fit.

    `history` is (message id, message) pairs, oldest first. A turn starts at a user
    message and holds everything up to the next one, so a tool call and its results
    are always kept or dropped together.
    """
    turns: list[list[tuple[int, ChatMessage]]] = []
    for item in history:
        if item[1].role == "user" or not turns:
            turns.append([])
        turns[-1].append(item)

    def size(items) -> int:
        return round(sum(message_tokens(m) for _, m in items) * scale)

    available = window - reserve
    used = (round(message_tokens(system) * scale) if system else 0) + size(
        turns[-1] if turns else []
    )
    if used > available:
        raise TooLarge(used, available)
    kept = [turns.pop()] if turns else []
    while turns and used + size(turns[-1]) <= available:
        used += size(turns[-1])
        kept.insert(0, turns.pop())
    dropped = [mid for turn in turns for mid, _ in turn]
    items = [item for turn in kept for item in turn]
    return Fit(
        messages=([system] if system else []) + [m for _, m in items],
        sent=[mid for mid, _ in items],
        left_out=dropped,
        estimated_tokens=used,
    )
