"""The websocket protocol's client frames, every one parsed and checked here field by field
(see docs/protocol.md)."""

import json
import math
import re
from dataclasses import dataclass, field

from django.conf import settings

from ..services import SettingsChange
from ..tools import registry
from .assembly import TOOL_CHOICES, TurnOptions


class FrameError(Exception):
    """A frame that does not follow the protocol."""

    def __init__(self, message: str, *, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = "bad_request"
        self.message = message
        self.client_id = client_id


@dataclass
class SendRequest:
    """`chat.send` and `chat.edit`: a user's message."""

    client_id: str
    conversation: int | None
    content: str
    change: SettingsChange = field(default_factory=SettingsChange)  # Persona, model, params.
    options: TurnOptions = field(default_factory=TurnOptions)
    edit: int | None = None  # `chat.edit`: the user message this is a new version of.


@dataclass
class SettingsCommand:
    """`conversation.settings`: a conversation's persona, model or parameters."""

    conversation: int
    change: SettingsChange


@dataclass
class ConversationCommand:
    """A frame that names only a conversation: `chat.stop`, `conversation.open`."""

    conversation: int


@dataclass
class RenameCommand:
    """`conversation.rename`."""

    conversation: int
    title: str


@dataclass
class FlagCommand:
    """`conversation.pin` and `conversation.archive`."""

    conversation: int
    pinned: bool | None = None
    archived: bool | None = None


@dataclass
class MessageCommand:
    """A frame that names a message in a conversation: `chat.regenerate`, `chat.switch`."""

    conversation: int
    message: int
    options: TurnOptions = field(default_factory=TurnOptions)


@dataclass
class HistoryCommand:
    """`conversation.history`: the page of older messages just above `before`."""

    conversation: int
    before: int


# No frame of the protocol nests deeper than 2; the margin leaves room to grow. json.loads
# recurses once per level, so a deep frame must be refused before it is parsed.
MAX_DEPTH = 32
MAX_CONTAINERS = 256  # Lists and objects in one frame; the protocol's have at most two.
# A JSON string (escapes included), and the brackets left once strings are taken out.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
# json.loads turns "\ud800" into a lone surrogate, which no database or log can encode.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def decode(text: str) -> object:
    """A text frame's JSON, refused (FrameError) when too deep or not encodable as UTF-8."""
    structure = _JSON_STRING.sub("", text)
    # Counted in C first, so the loop below walks a few brackets, never a megabyte of them.
    if structure.count("[") + structure.count("{") > MAX_CONTAINERS:
        raise FrameError(f"The frame has more than {MAX_CONTAINERS} lists and objects.")
    depth = 0
    for bracket in _BRACKETS.finditer(structure):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise FrameError(f"The frame is nested more than {MAX_DEPTH} levels deep.")
    try:
        frame = json.loads(text)
    except ValueError:
        raise FrameError("The frame is not valid JSON.") from None
    if _has_surrogate(frame):
        client_id = frame.get("client_id") if isinstance(frame, dict) else None
        raise FrameError(
            "Text in the frame cannot be encoded as UTF-8 (a lone surrogate).",
            client_id=client_id
            if isinstance(client_id, str) and not _has_surrogate(client_id)
            else None,
        )
    return frame


def _has_surrogate(value: object) -> bool:
    """Whether any string in a decoded frame, keys included, holds a lone surrogate."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    return False


def _options(frame: dict, client_id: str | None = None) -> TurnOptions:
    """The optional per-message `tools` and `tool_choice`."""
    tools = frame.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise FrameError("'tools' must be a list of tool names.", client_id=client_id)
        unknown = [t for t in tools if t not in registry.REGISTRY]
        if unknown:
            raise FrameError(f"Unknown tool '{unknown[0][:50]}'.", client_id=client_id)
    choice = _field(frame, "tool_choice", str, required=False, client_id=client_id)
    if choice is not None and choice not in TOOL_CHOICES and choice not in registry.REGISTRY:
        raise FrameError(
            "'tool_choice' must be auto, none, required or a tool's name.", client_id=client_id
        )
    return TurnOptions(tools=tools, tool_choice=choice)


def _field(frame: dict, name: str, kind: type, *, required: bool = True, client_id=None):
    value = frame.get(name)
    if value is None:
        if required:
            raise FrameError(f"'{name}' is required.", client_id=client_id)
        return None
    # bool is an int in Python, never in this protocol.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FrameError(f"'{name}' must be {_KIND_NAMES[kind]}.", client_id=client_id)
    return value


_KIND_NAMES = {int: "an integer", str: "a string", bool: "true or false"}

# The parameters a conversation may set, with their bounds (as the persona form's).
_NUMBERS = {
    "temperature": (0.0, 2.0, float),
    "top_p": (0.0, 1.0, float),
    "max_tokens": (1, 1_000_000, int),
}


def _settings(frame: dict, client_id: str | None = None) -> SettingsChange:
    """The persona, model and parameters a frame sets; only the fields it has are changed.

    `persona: null` means no persona; `model: ""` follows the persona's model again;
    a parameter's `null` (or an empty `system_prompt`) follows the persona's again.
    A `model: null` changes nothing, as it always has.
    """

    def fail(message: str):
        raise FrameError(message, client_id=client_id)

    given, values = [], {}
    if "persona" in frame:
        persona = frame["persona"]
        if persona is not None and (not isinstance(persona, int) or isinstance(persona, bool)):
            fail("'persona' must be an integer or null.")
        given.append("persona")
        values["persona"] = persona
    if frame.get("model") is not None:
        model = frame["model"]
        if not isinstance(model, str) or len(model) > 200:
            fail("'model' must be a string of at most 200 characters.")
        given.append("model")
        values["model"] = model.strip()
    for name, (low, high, kind) in _NUMBERS.items():
        if name not in frame:
            continue
        value = frame[name]
        if value is not None:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if kind is int and not isinstance(value, int):
                number = False
            if not number or not math.isfinite(value) or not low <= value <= high:
                fail(f"'{name}' must be a number from {low:g} to {high:g}, or null.")
            value = kind(value)
        given.append(name)
        values[name] = value
    if "system_prompt" in frame:
        prompt = frame["system_prompt"]
        if prompt is not None and not isinstance(prompt, str):
            fail("'system_prompt' must be a string or null.")
        if prompt and len(prompt) > settings.CHAT_MAX_MESSAGE_CHARS:
            fail(f"'system_prompt' is longer than {settings.CHAT_MAX_MESSAGE_CHARS:,} characters.")
        given.append("system_prompt")
        values["system_prompt"] = prompt if prompt and prompt.strip() else ""
    return SettingsChange(given=frozenset(given), **values)


def parse(frame: object) -> tuple[str, object]:
    """Check a decoded frame; return its type and typed payload or raise FrameError."""
    if not isinstance(frame, dict):
        raise FrameError("A frame must be a JSON object.")
    kind = frame.get("type")
    if kind in ("chat.send", "chat.edit"):
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        cid = _field(frame, "client_id", str)
        if not cid or len(cid) > 100:
            raise FrameError("'client_id' must be 1 to 100 characters.")
        editing = kind == "chat.edit"
        return kind, SendRequest(
            client_id=cid,
            conversation=_field(frame, "conversation", int, required=editing, client_id=client_id),
            content=_field(frame, "content", str, client_id=client_id),
            change=_settings(frame, client_id),
            options=_options(frame, client_id),
            edit=_field(frame, "message", int, client_id=client_id) if editing else None,
        )
    if kind == "conversation.settings":
        return kind, SettingsCommand(_field(frame, "conversation", int), _settings(frame))
    if kind == "chat.continue":
        return kind, MessageCommand(
            _field(frame, "conversation", int), _field(frame, "message", int)
        )
    if kind == "conversation.rename":
        title = _field(frame, "title", str)
        if not title.strip() or len(title) > 200:
            raise FrameError("'title' must be 1 to 200 characters.")
        return kind, RenameCommand(_field(frame, "conversation", int), title)
    if kind == "conversation.pin":
        return kind, FlagCommand(
            _field(frame, "conversation", int), pinned=_field(frame, "pinned", bool)
        )
    if kind == "conversation.archive":
        return kind, FlagCommand(
            _field(frame, "conversation", int), archived=_field(frame, "archived", bool)
        )
    if kind == "conversation.history":
        return kind, HistoryCommand(
            _field(frame, "conversation", int), _field(frame, "before", int)
        )
    if kind == "chat.switch":
        return kind, MessageCommand(
            _field(frame, "conversation", int), _field(frame, "message", int)
        )
    if kind in ("chat.stop", "conversation.open", "conversation.delete"):
        return kind, ConversationCommand(_field(frame, "conversation", int))
    if kind == "chat.regenerate":
        return kind, MessageCommand(
            _field(frame, "conversation", int), _field(frame, "message", int), _options(frame)
        )
    if not isinstance(kind, str):
        raise FrameError("A frame needs a string 'type'.")
    raise FrameError(f"Unknown frame type '{kind[:50]}'.")
