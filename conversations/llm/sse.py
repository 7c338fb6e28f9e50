"""Server-sent events and completion chunks, read tolerantly.

Servers that speak the OpenAI format differ in small ways; each quirk handled
here is listed in the project's wire-format notes and has a test.
"""

import json
import uuid
from collections.abc import Iterator

from .errors import LLMError, error_text, is_error_payload
from .events import Event, Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from .messages import ChatMessage, ToolCall

DONE = "[DONE]"
# One event's data, all its lines together: past this the stream is refused rather than
# buffered on (a line alone is bounded by the client's read buffer).
MAX_EVENT_CHARS = 4 * 1024 * 1024
# Lines of one event after which no more checks are made for a whole JSON payload (a
# server that omits blank lines): each check parses all the event so far, so checking
# every line of an endless event would cost the square of its length.
WHOLE_CHECKS = 8


class LineSplitter:
    """A body's bytes as they arrive, in lines of text: LF ends a line, and so does a lone
    CR within one. A line still unfinished past `limit` bytes is refused, not buffered on.

    Whole chunks are split here rather than read a line at a time: a stream's events
    arrive one or a few to a chunk, and each line read from aiohttp cost its own call
    into its buffer on the event loop, with every token of every reply passing through.
    """

    def __init__(self, limit: int) -> None:
        self._parts: list[bytes] = []  # The unfinished line, joined only once it ends.
        self._held = 0
        self._limit = limit

    def feed(self, chunk: bytes) -> list[str]:
        """The lines this chunk ends, in order (without their line ends)."""
        if b"\n" not in chunk:
            self._hold(chunk)
            return []
        if self._parts:
            chunk = b"".join(self._parts) + chunk
            self._parts, self._held = [], 0
        *ended, rest = chunk.split(b"\n")
        if rest:
            self._hold(rest)
        lines: list[str] = []
        for raw in ended:
            if len(raw) > self._limit:  # Ended in the chunk that took it past the limit.
                raise self._too_long()
            lines += _text_lines(raw)
        return lines

    def flush(self) -> list[str]:
        """The last line, if the body ended without a line end."""
        rest = b"".join(self._parts)
        self._parts, self._held = [], 0
        return _text_lines(rest) if rest else []

    def _hold(self, part: bytes) -> None:
        self._held += len(part)
        if self._held > self._limit:
            raise self._too_long()
        self._parts.append(part)

    def _too_long(self) -> LLMError:
        return LLMError(
            "The model provider sent a line too long to read.",
            detail=f"a line passed {self._limit} bytes",
        )


def _text_lines(raw: bytes) -> list[str]:
    text = raw.decode("utf-8", errors="replace")
    if text.endswith("\r"):
        text = text[:-1]
    return text.split("\r") if "\r" in text else [text]


class SSEDecoder:
    """Turns lines of an event stream into the data payload of each event."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._size = 0

    def feed(self, line: str) -> Iterator[str]:
        """Take one line (without its newline); yield any payloads it completes."""
        if not line:
            yield from self.flush()
            return
        if line.startswith(":"):
            return  # A comment: keep-alives such as ": ping".
        field, _, value = line.partition(":")
        if field != "data":
            return  # event:, id: and retry: carry nothing we use.
        value = value.removeprefix(" ")
        if self._data and len(self._data) <= WHOLE_CHECKS and _is_whole_json(self._data):
            # Some servers omit the blank line between events.
            yield from self.flush()
        self._size += len(value) + 1
        if self._size > MAX_EVENT_CHARS:
            raise LLMError(
                "The model provider sent an event too large to read.",
                detail=f"an event's data passed {MAX_EVENT_CHARS} characters",
            )
        self._data.append(value)

    def flush(self) -> Iterator[str]:
        """Yield the pending payload, if any (end of an event or of the stream)."""
        data = "\n".join(self._data)
        self._data = []
        self._size = 0
        if data.strip():
            yield data


def _is_whole_json(parts: list[str]) -> bool:
    text = "\n".join(parts)
    if text.strip() == DONE:
        return True
    try:
        json.loads(text)
    except (ValueError, RecursionError):  # Nested past the parser's depth: not JSON to us.
        return False
    return True


class ThinkSplitter:
    """Splits a leading `<think>…</think>` block out of streamed content."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._state = "start"  # start -> think -> text, or start -> text
        self._buffer = ""

    def feed(self, text: str) -> Iterator[Event]:
        """Take a content delta; yield text and reasoning deltas."""
        self._buffer += text
        if self._state == "start":
            head = self._buffer.lstrip()
            if head.startswith(self.OPEN):
                self._state = "think"
                self._buffer = head[len(self.OPEN) :].lstrip("\n")
            elif self.OPEN.startswith(head):
                return  # Could still become "<think>": wait for more.
            else:
                self._state = "text"
        if self._state == "think":
            end = self._buffer.find(self.CLOSE)
            if end < 0:
                # Hold back what might be the start of "</think>".
                keep = _partial_suffix(self._buffer, self.CLOSE)
                reasoning, self._buffer = (
                    self._buffer[: len(self._buffer) - keep],
                    self._buffer[len(self._buffer) - keep :],
                )
                if reasoning:
                    yield ReasoningDelta(reasoning)
                return
            reasoning = self._buffer[:end]
            if reasoning:
                yield ReasoningDelta(reasoning)
            self._state = "text"
            self._buffer = self._buffer[end + len(self.CLOSE) :].lstrip("\n")
        if self._state == "text" and self._buffer:
            yield TextDelta(self._buffer)
            self._buffer = ""

    def flush(self) -> Iterator[Event]:
        """Yield whatever is held back at the end of the stream."""
        if self._buffer:
            kind = ReasoningDelta if self._state == "think" else TextDelta
            yield kind(self._buffer)
        self._buffer = ""


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that begins `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ToolCallIndexer:
    """Gives every tool-call fragment a stable slot and id, whatever the server sent."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._names: list[str | None] = []
        self._slot_of_id: dict[str, int] = {}
        self._slot_of_raw: dict[int, int] = {}
        self._last_slot: int | None = None

    def normalize(self, raw: dict) -> ToolCallDelta:
        """Turn one raw `tool_calls` entry into a ToolCallDelta with a fixed index."""
        raw_index = raw.get("index") if isinstance(raw.get("index"), int) else None
        call_id = raw.get("id") or None
        function = raw.get("function") or {}
        name = function.get("name") or None
        arguments = function.get("arguments")
        if arguments is None:
            arguments = ""
        elif not isinstance(arguments, str):
            arguments = json.dumps(arguments)  # Some servers send an object.

        known = self._slot_of_raw.get(raw_index) if raw_index is not None else self._last_slot
        if call_id and call_id in self._slot_of_id:
            slot, new = self._slot_of_id[call_id], False
        elif call_id or (name and (known is None or self._names[known] != name)):
            slot, new = self._new_slot(call_id, name), True
        elif known is not None:
            slot, new = known, False
        else:
            slot, new = self._new_slot(None, name), True
        if raw_index is not None:
            self._slot_of_raw[raw_index] = slot
        self._last_slot = slot
        return ToolCallDelta(
            index=slot,
            id=self._ids[slot] if new else None,
            name=name if new else None,
            arguments=arguments,
        )

    def _new_slot(self, call_id: str | None, name: str | None) -> int:
        call_id = call_id or f"call_{uuid.uuid4().hex[:24]}"
        self._ids.append(call_id)
        self._names.append(name)
        self._slot_of_id[call_id] = len(self._ids) - 1
        return len(self._ids) - 1


class ToolCallAccumulator:
    """Assembles ToolCallDeltas into complete ToolCalls."""

    def __init__(self) -> None:
        self._parts: dict[int, list[str]] = {}  # slot -> [id, name, arguments]

    def add(self, delta: ToolCallDelta) -> None:
        """Fold one delta into its call."""
        part = self._parts.setdefault(delta.index, ["", "", ""])
        part[0] = part[0] or delta.id or ""
        part[1] = part[1] or delta.name or ""
        part[2] += delta.arguments

    def calls(self) -> list[ToolCall]:
        """The calls in slot order; empty arguments become an empty object."""
        return [
            ToolCall(id=call_id, name=name, arguments=arguments or "{}")
            for _, (call_id, name, arguments) in sorted(self._parts.items())
        ]


def estimate_prompt_tokens(messages: list[ChatMessage]) -> int:
    """A rough prompt size (about four characters a token, plus per-message overhead)."""
    return 2 + sum(
        4 + (len(message.text) + 3) // 4 + sum(image.tokens for image in message.images)
        for message in messages
    )


class ChunkReader:
    """Turns decoded completion chunks into typed events."""

    def __init__(self, *, prompt_estimate: int | None = None) -> None:
        self.think = ThinkSplitter()
        self.tools = ToolCallIndexer()
        self.finish_reason: str | None = None
        self.chunks = 0
        self.token_chunks = 0  # Chunks that carried output: about one token each.
        self.usage_seen = False
        self.prompt_estimate = prompt_estimate

    def read(self, payload: object) -> Iterator[Event]:
        """Yield the events in one chunk (streamed) or one whole completion."""
        if is_error_payload(payload):
            text = error_text(payload)
            raise LLMError(
                f"The model provider reported an error: {text[:200]}",
                detail=f"error in stream: {text[:2000]}",
            )
        if not isinstance(payload, dict):
            return
        self.chunks += 1
        choices = payload.get("choices") or []
        for choice in choices[:1]:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if delta.get("content") or delta.get("tool_calls") or _reasoning_of(delta):
                self.token_chunks += 1
            reasoning = _reasoning_of(delta)
            if reasoning:
                yield ReasoningDelta(reasoning)
            content = delta.get("content")
            if isinstance(content, str) and content:
                yield from self.think.feed(content)
            for raw in delta.get("tool_calls") or []:
                if isinstance(raw, dict):
                    yield self.tools.normalize(raw)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self.usage_seen = True
            yield Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
            )

    def finish(self) -> Iterator[Event]:
        """Yield the held-back text and the Finish event at the end of the stream."""
        if not self.chunks:
            raise LLMError(
                "The model provider sent a reply that could not be read.",
                detail="no completion chunk in the response",
            )
        yield from self.think.flush()
        if not self.usage_seen:
            # Some servers (llama-cpp-python's among them) report no usage when streaming.
            yield Usage(self.prompt_estimate, self.token_chunks, estimated=True)
        yield Finish(self.finish_reason)


def _reasoning_of(delta: dict) -> str:
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    return reasoning if isinstance(reasoning, str) else ""
