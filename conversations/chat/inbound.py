"""The websocket protocol's client frames: decoded here (size, nesting, text), checked
against their models (frames/client.py, found by type in frames.CLIENT), and turned into
what their handlers take (see docs/protocol.md)."""

import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from pydantic import BaseModel, ValidationError

from ..services import SettingsChange
from ..tools import external, registry
from ..turns.compare import CompareSpec
from . import frames
from .assembly import TurnOptions
from .frames import client


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
    # Ids of the sender's uploaded files, in order: None keeps an edited message's files,
    # a list (even empty) replaces them.
    attachments: list[str] | None = None
    project: int | None = None  # `chat.send` starting a chat: the project it starts in.
    temporary: bool = False  # A new conversation only: start it as a temporary chat.
    # A compare: the model or persona of each reply, written at once (2 to 4).
    compare: list[CompareSpec] | None = None
    blind: bool | None = None  # A compare only: None is the site's default.


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
class StopCommand:
    """`chat.stop`: every reply of the conversation's turn, or one reply of a compare."""

    conversation: int
    message: int | None = None


@dataclass
class ChooseCommand:
    """`compare.choose`: the user's choice among a compare's replies."""

    conversation: int
    group: int
    verdict: str
    message: int | None
    reason: str


@dataclass
class ApproveCommand:
    """`tool.approve`: the user's answer to a pending tool call."""

    conversation: int
    call_id: str
    approve: bool


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
class MoveCommand:
    """`conversation.move`: into a project, or out of any (None)."""

    conversation: int
    project: int | None


@dataclass
class TagsCommand:
    """`conversation.tags`: a conversation's tags, by name."""

    conversation: int
    tags: list[str]


@dataclass
class TagCommand:
    """`tag.rename` (with its new `name`) and `tag.delete`."""

    tag: int
    name: str | None = None


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


def limits(user_id: int | None = None) -> client.Limits:
    """What the server allows now: the context every client frame is checked in. The
    tools that exist are the registered ones and, for a user, the external tools their
    sources offer them now (from memory: per user, and changing as servers do)."""
    tools = frozenset(registry.REGISTRY)
    if user_id is not None:
        tools |= frozenset(external.for_user(user_id))
    return client.Limits(
        tools=tools,
        max_chars=settings.CHAT_MAX_MESSAGE_CHARS,
        max_files=settings.CHAT_MAX_FILES_PER_MESSAGE,
    )


def parse(frame: object, *, user_id: int | None = None) -> tuple[str, object]:
    """Check a decoded frame against its model (frames.CLIENT), for the user whose socket
    sent it; return its type and the payload its handler takes, or raise FrameError
    saying what is wrong."""
    if not isinstance(frame, dict):
        raise FrameError("A frame must be a JSON object.")
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise FrameError("A frame needs a string 'type'.")
    spec = frames.CLIENT.get(kind)
    if spec is None:
        raise FrameError(f"Unknown frame type '{kind[:50]}'.")
    try:
        checked = spec.model.model_validate(frame, context=limits(user_id))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        # A refused send names its client_id (once that is valid), so the page can match it.
        client_id = frame.get("client_id") if "client_id" in spec.model.model_fields else None
        if error["loc"][:1] == ("client_id",) or not isinstance(client_id, str):
            client_id = None
        raise FrameError(client.refusal(spec.model, error), client_id=client_id) from None
    return kind, _payload(checked)


def _payload(frame: BaseModel) -> object:
    """What a frame's handler takes: its fields, with settings and tool choices as the
    turn takes them."""
    match frame:
        case client.ChatSend():  # chat.edit too.
            return SendRequest(
                client_id=frame.client_id,
                conversation=frame.conversation,
                content=frame.content,
                change=_change(frame),
                options=TurnOptions(tools=frame.tools, tool_choice=frame.tool_choice),
                edit=frame.message if isinstance(frame, client.ChatEdit) else None,
                attachments=frame.attachments,
                project=frame.project,
                temporary=frame.temporary and frame.conversation is None,
                compare=[
                    CompareSpec(model=(e.model or "").strip() or None, persona=e.persona)
                    for e in frame.compare
                ]
                if frame.compare
                else None,
                blind=frame.blind,
            )
        case client.ConversationSettings():
            return SettingsCommand(frame.conversation, _change(frame))
        case client.ChatRegenerate():
            options = TurnOptions(tools=frame.tools, tool_choice=frame.tool_choice)
            return MessageCommand(frame.conversation, frame.message, options)
        case client.ChatContinue() | client.ChatSwitch():
            return MessageCommand(frame.conversation, frame.message)
        case client.ToolApprove():
            return ApproveCommand(frame.conversation, frame.call_id, frame.approve)
        case client.ConversationRename():
            return RenameCommand(frame.conversation, frame.title)
        case client.ConversationPin():
            return FlagCommand(frame.conversation, pinned=frame.pinned)
        case client.ConversationArchive():
            return FlagCommand(frame.conversation, archived=frame.archived)
        case client.ConversationMove():
            return MoveCommand(frame.conversation, frame.project)
        case client.ConversationTags():
            return TagsCommand(frame.conversation, frame.tags)
        case client.TagRename():
            return TagCommand(frame.tag, frame.name)
        case client.TagDelete():
            return TagCommand(frame.tag)
        case client.ConversationHistoryAsk():
            return HistoryCommand(frame.conversation, frame.before)
        case client.ChatStop():
            return StopCommand(frame.conversation, frame.message)
        case client.CompareChoose():
            return ChooseCommand(
                frame.conversation, frame.group, frame.verdict, frame.message, frame.reason
            )
        case client.ConversationOpen() | client.ConversationDelete() | client.ConversationClose():
            return ConversationCommand(frame.conversation)
    raise TypeError(f"No payload for {type(frame).__name__}")


def _change(frame: BaseModel) -> SettingsChange:
    given = client.settings_given(frame)
    return SettingsChange(given=frozenset(given), **given)
