"""The shape of import files (ours and ChatGPT's), checked field by field, and of what is
saved from them.

Every field the app keeps is validated here, with a bound on its size; fields the app
does not keep are ignored. Nothing that passes can later break an export, the chat page
or a request upstream.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from ..models import Message
from ..prompts import variables as prompt_variables
from ..prompts.models import COMMAND_MAX
from ..tags import names as tag_names

FORMAT_ONE = "chatsite.conversation"
FORMAT_ALL = "chatsite.export"
VERSION = 1

MAX_TEXT_CHARS = 1_000_000  # One message's text (content, reasoning, tool arguments).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a stray one in an old export should not stop it.
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _none_as_empty(value: object) -> object:
    return "" if value is None else value


def _in_range(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be a date between 1970 and 3000")
    return value.astimezone(UTC)


def _finite_seconds(value: float) -> float:
    if not math.isfinite(value) or not EARLIEST.timestamp() <= value < LATEST.timestamp():
        raise ValueError("must be a time between 1970 and 3000, in seconds")
    return value


def Text(max_length: int = MAX_TEXT_CHARS, *, null_is_empty: bool = False):
    """A string of at most `max_length` characters (null reads as "" if `null_is_empty`)."""
    before = [BeforeValidator(_none_as_empty)] if null_is_empty else []
    # Constraints first, so errors read "String should have at most N characters".
    return Annotated[
        StrictStr, StringConstraints(max_length=max_length), AfterValidator(_no_nul), *before
    ]


def Str(max_length: int = MAX_TEXT_CHARS):
    """Text in our own export, where a null string field reads as empty."""
    return Text(max_length, null_is_empty=True)


def _key(value: object) -> int | str:
    # Ids become dictionary keys: a list or an object (unhashable) must never get that far.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        return value
    if isinstance(value, str) and 0 < len(value) <= 200:
        return value
    raise ValueError("must be a whole number or a string of 1 to 200 characters")


# A message's id in a file: a number or a short string, never a list or an object.
Key = Annotated[int | str, PlainValidator(_key)]
Count = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]
Stamp = Annotated[datetime, AfterValidator(_in_range)]
Seconds = Annotated[StrictInt | StrictFloat, AfterValidator(_finite_seconds)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# Our own export (portability/export.py writes exactly this).


class ToolCallIn(_Model):
    id: Str(100)
    name: Str(100)
    arguments: Str()


def _file_id(value: str) -> str:
    # A UUID, with or without dashes, kept as 32 lower-case hex digits: the zip's entry name.
    hex_digits = value.replace("-", "").lower()
    if len(hex_digits) != 32 or any(c not in "0123456789abcdef" for c in hex_digits):
        raise ValueError("must be a file id (a UUID)")
    return hex_digits


class FileIn(_Model):
    """A file a user message carried: its bytes are the zip's `files/<id>`."""

    id: Annotated[StrictStr, StringConstraints(max_length=36), AfterValidator(_file_id)]
    name: Str(200)
    kind: Literal["text", "image"]
    content_type: Str(100) = ""
    size: Count
    sha256: Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    pages: Count | None = None
    note: Str(300) = ""


# The most files one message may carry in a file (the settings' per-message limit is
# checked too, when it is lower).
MAX_FILES_PER_MESSAGE = 100


class MessageIn(_Model):
    id: Key
    parent: Key | None = None
    role: Literal["system", "user", "assistant", "tool"]
    content: Str() = ""
    reasoning: Str() = ""
    status: Literal["pending", "streaming", "complete", "stopped", "error", "interrupted"] = (
        "complete"
    )
    model: Str(200) = ""
    finish_reason: Str(32) = ""
    error: Str(10_000) = ""
    tool_calls: Annotated[list[ToolCallIn], Field(max_length=128)] | None = None
    tool_call_id: Str(100) = ""
    tool_name: Str(100) = ""
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    created_at: Stamp | None = None
    files: Annotated[list[FileIn], Field(max_length=MAX_FILES_PER_MESSAGE)] = []


def _tag_name(value: str) -> str:
    try:
        return tag_names.normalise(value)
    except tag_names.BadName as exc:
        raise ValueError(str(exc)) from None


TagName = Annotated[StrictStr, StringConstraints(max_length=200), AfterValidator(_tag_name)]
MAX_TAGS_PER_CONVERSATION = 100  # In a file; the settings' bounds apply as it is saved.


class PersonaRef(_Model):
    id: StrictInt
    name: Str(100)


def _named(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class ProjectIn(_Model):
    """A project (projects/): matched by name on import, made if the user has none so named."""

    name: Annotated[Str(100), AfterValidator(_named)]
    instructions: Str(20_000) = ""
    default_persona: PersonaRef | None = None
    default_model: Str(200) = ""
    default_tools: Annotated[list[Str(100)], Field(max_length=64)] = []


# Projects one all-export may list (more than any user may have: CHAT_MAX_PROJECTS).
MAX_PROJECTS = 1000


class ConversationIn(_Model):
    format: Literal["chatsite.conversation"] | None = None
    version: Annotated[StrictInt, Field(ge=1, le=VERSION)] = VERSION
    title: Str(200) = ""
    model: Str(200) = ""
    created_at: Stamp | None = None
    updated_at: Stamp | None = None  # Last active; older exports have none.
    pinned: StrictBool = False
    archived: StrictBool = False
    persona: PersonaRef | None = None
    project: ProjectIn | None = None  # Older exports have none.
    # Its tags by name (older exports have none); made for the importing user as needed.
    tags: Annotated[list[TagName], Field(max_length=MAX_TAGS_PER_CONVERSATION)] = []
    current: Key | None = None
    tree: list[MessageIn]


def _prompt_text(value: str) -> str:
    if len(prompt_variables.variables(value)) > prompt_variables.MAX_VARIABLES:
        raise ValueError(f"a prompt may have at most {prompt_variables.MAX_VARIABLES} variables")
    return value


MAX_PROMPTS_IN_FILE = 1000


class PromptIn(_Model):
    """One of the user's own prompts in the all-export (optional: older files have none)."""

    command: Annotated[
        StrictStr,
        StringConstraints(max_length=COMMAND_MAX, pattern=r"^[a-z0-9][a-z0-9_-]*$"),
    ]
    title: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    text: Annotated[
        Text(prompt_variables.MAX_TEXT_CHARS),
        StringConstraints(min_length=1),
        AfterValidator(_prompt_text),
    ]


class PromptsIn(_Model):
    prompts: Annotated[list[PromptIn], Field(max_length=MAX_PROMPTS_IN_FILE)] = []


# ChatGPT's conversations.json (its data export): only what the app keeps.


class ChatGPTAuthor(_Model):
    role: Literal["system", "user", "assistant", "tool"]


class ChatGPTContent(_Model):
    content_type: Text(100) = ""
    # Text parts; anything else (an image, a file) is an object.
    parts: Annotated[list[Text() | dict | None], Field(max_length=1000)] | None = None
    text: Text() | None = None


class ChatGPTMetadata(_Model):
    model_slug: Text(200) | None = None
    is_visually_hidden_from_conversation: StrictBool | None = None


class ChatGPTMessage(_Model):
    author: ChatGPTAuthor
    content: ChatGPTContent | None = None
    create_time: Seconds | None = None
    metadata: ChatGPTMetadata | None = None


NodeId = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]


class ChatGPTNode(_Model):
    message: ChatGPTMessage | None = None
    parent: NodeId | None = None
    children: Annotated[list[NodeId], Field(max_length=10_000)] = []


class ChatGPTConversation(_Model):
    title: Text(10_000) | None = None
    create_time: Seconds | None = None
    update_time: Seconds | None = None
    default_model_slug: Text(200) | None = None
    current_node: NodeId | None = None
    is_archived: StrictBool | None = None
    mapping: dict[NodeId, ChatGPTNode]


# What is saved: a conversation and its messages, parents before children.


@dataclass
class NewMessage:
    """One message to save; `parent` is the index of its parent in the same list."""

    parent: int | None
    fields: dict
    created_at: datetime | None = None
    files: list[str] = field(default_factory=list)  # Ids of the conversation's `files`.


@dataclass
class NewConversation:
    """One conversation to save, checked whole."""

    title: str
    model: str = ""
    pinned: bool = False
    archived: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None  # Last active: where the sidebar files it.
    persona: PersonaRef | None = None
    project: ProjectIn | None = None
    tags: list[str] = field(default_factory=list)  # Names, checked (tags/names.py).
    messages: list[NewMessage] = field(default_factory=list)
    current: int | None = None  # Index of the message the conversation shows.
    files: dict[str, FileIn] = field(default_factory=dict)  # By id: what its messages carry.
    fingerprint: str = ""  # Of its messages (importing.conversation_fingerprint).


SAVED_STATUS = {
    # A reply that was streaming when exported can never finish here.
    Message.Status.PENDING: Message.Status.INTERRUPTED,
    Message.Status.STREAMING: Message.Status.INTERRUPTED,
}
