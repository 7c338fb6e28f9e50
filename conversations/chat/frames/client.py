"""Frames a browser sends (docs/protocol.md, "Client → server"): one model per `type`.

Each field is checked as the protocol says, in the order the models declare them; the
first wrong one is what the client is told (`refusal`), in words fit to show. What only
the running server knows, the tools that exist and the longest message allowed, comes in
the validation context (`Limits`), so these models need no Django and the schema can be
made anywhere.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo
from pydantic_core import ErrorDetails, PydanticCustomError

from ...llm.messages import TOOL_CHOICE_KEYWORDS
from .base import Received

# A client's own words, when a check of ours (not a type) fails: passed on as they are.
OWN_WORDS = "frame"


@dataclass(frozen=True)
class Limits:
    """The validation context: what the server running now allows."""

    # Tools that exist: the registered ones, and the external ones the socket's user may use.
    tools: frozenset[str]
    max_chars: int  # CHAT_MAX_MESSAGE_CHARS.
    max_files: int = 10  # CHAT_MAX_FILES_PER_MESSAGE.


@dataclass(frozen=True)
class Says:
    """What a client is told when this field is wrong (but for missing or null where it is
    required). `any_type`: also when the value is of the wrong JSON type; otherwise that
    is "'name' must be an integer" (or a string, or true or false)."""

    text: str
    any_type: bool = False


def _limits(info: ValidationInfo) -> Limits:
    if not isinstance(info.context, Limits):
        raise TypeError("client frames are validated with the server's Limits as context")
    return info.context


def _not_blank(title: str) -> str:
    if not title.strip():
        raise ValueError("blank")
    return title


def _known_tools(tools: list[str] | None, info: ValidationInfo) -> list[str] | None:
    unknown = [name for name in tools or () if name not in _limits(info).tools]
    if unknown:
        raise PydanticCustomError(OWN_WORDS, "Unknown tool '{name}'.", {"name": unknown[0][:50]})
    return tools


def _tool_choice(choice: str | None, info: ValidationInfo) -> str | None:
    if choice is not None and choice not in TOOL_CHOICE_KEYWORDS:
        if choice not in _limits(info).tools:
            raise ValueError("unknown")
    return choice


def _prompt_length(prompt: str | None, info: ValidationInfo) -> str | None:
    most = _limits(info).max_chars
    if prompt and len(prompt) > most:
        raise PydanticCustomError(
            OWN_WORDS, "'system_prompt' is longer than {most} characters.", {"most": f"{most:,}"}
        )
    return prompt


def _files_count(ids: list[str] | None, info: ValidationInfo) -> list[str] | None:
    most = _limits(info).max_files
    if ids and len(ids) > most:
        raise PydanticCustomError(
            OWN_WORDS, "A message may carry at most {most} files.", {"most": most}
        )
    return ids


ClientId = Annotated[
    str, Field(min_length=1, max_length=100), Says("'client_id' must be 1 to 100 characters.")
]
Title = Annotated[
    str,
    Field(min_length=1, max_length=200),
    AfterValidator(_not_blank),
    Says("'title' must be 1 to 200 characters."),
]
# The settings a frame may change (SettingsChange): only the ones it names are changed.
Persona = Annotated[int | None, Says("'persona' must be an integer or null.", any_type=True)]
Model = Annotated[
    str | None,
    Field(max_length=200),
    Says("'model' must be a string of at most 200 characters.", any_type=True),
]
Temperature = Annotated[
    float | None,
    Field(ge=0, le=2, allow_inf_nan=False),
    Says("'temperature' must be a number from 0 to 2, or null.", any_type=True),
]
TopP = Annotated[
    float | None,
    Field(ge=0, le=1, allow_inf_nan=False),
    Says("'top_p' must be a number from 0 to 1, or null.", any_type=True),
]
MaxTokens = Annotated[
    int | None,
    Field(ge=1, le=1_000_000),
    Says("'max_tokens' must be a number from 1 to 1e+06, or null.", any_type=True),
]
SystemPrompt = Annotated[
    str | None,
    AfterValidator(_prompt_length),
    Says("'system_prompt' must be a string or null.", any_type=True),
]
Tools = Annotated[
    list[str] | None,
    AfterValidator(_known_tools),
    Says("'tools' must be a list of tool names.", any_type=True),
]
ToolChoice = Annotated[
    str | None,
    AfterValidator(_tool_choice),
    Says("'tool_choice' must be auto, none, required or a tool's name."),
]
Attachments = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
    AfterValidator(_files_count),
    Says("'attachments' must be a list of file ids.", any_type=True),
]
SETTINGS = ("persona", "model", "temperature", "top_p", "max_tokens", "system_prompt")


class CompareEntry(BaseModel):
    """One reply of a compare: written by this model, or this persona, or both."""

    model: Model = None
    persona: Persona = None


def _compare_entries(entries: list[CompareEntry] | None) -> list[CompareEntry] | None:
    if entries is None:
        return None
    if not 2 <= len(entries) <= 4:
        raise PydanticCustomError(OWN_WORDS, "'compare' must name 2 to 4 models or personas.")
    if any(not (e.model or "").strip() and e.persona is None for e in entries):
        raise PydanticCustomError(OWN_WORDS, "Each 'compare' entry names a model or a persona.")
    return entries


Compare = Annotated[
    list[CompareEntry] | None,
    AfterValidator(_compare_entries),
    Says("'compare' must be a list of 2 to 4 {model, persona} entries.", any_type=True),
]


class ChatSend(Received):
    """A user's message: saved, then answered by a reply."""

    type: Literal["chat.send"] = "chat.send"
    client_id: ClientId
    conversation: int | None = None
    content: str
    persona: Persona = None
    model: Model = None
    temperature: Temperature = None
    top_p: TopP = None
    max_tokens: MaxTokens = None
    system_prompt: SystemPrompt = None
    tools: Tools = None
    tool_choice: ToolChoice = None
    # Files uploaded with POST /api/files, each the sender's own (else refused as an
    # unknown id), sent with this message in this order.
    attachments: Attachments = None
    # A new chat (no `conversation`) started in one of the sender's projects; else ignored.
    project: int | None = None
    # A new conversation only: start it as a temporary chat (ignored for an existing one).
    temporary: bool = False
    # Two to four replies written at once, to be compared (docs/protocol.md, "Compare").
    compare: Compare = None
    # A compare only: hide the models' names until the user has chosen (null: the site's
    # default).
    blind: bool | None = None


class ChatEdit(ChatSend):
    """A new version of user message `message`, answered like a `chat.send`."""

    type: Literal["chat.edit"] = "chat.edit"  # type: ignore[assignment]
    conversation: int  # type: ignore[assignment]
    message: int


class ChatStop(Received):
    """Stop the turn running in a conversation."""

    type: Literal["chat.stop"] = "chat.stop"
    conversation: int
    # One reply of a compare; without it, every reply the turn writes.
    message: int | None = None


class ToolApprove(Received):
    """The user's answer to `tool.approval_requested`: may the call run?"""

    type: Literal["tool.approve"] = "tool.approve"
    conversation: int
    call_id: Annotated[
        str, Field(min_length=1, max_length=100), Says("'call_id' must be 1 to 100 characters.")
    ]
    approve: bool


class ChatRegenerate(Received):
    """A new reply beside assistant message `message`."""

    type: Literal["chat.regenerate"] = "chat.regenerate"
    conversation: int
    message: int
    tools: Tools = None
    tool_choice: ToolChoice = None


class ChatContinue(Received):
    """More of assistant reply `message`, in the same message."""

    type: Literal["chat.continue"] = "chat.continue"
    conversation: int
    message: int


class ChatSwitch(Received):
    """Make the branch through `message` the active one."""

    type: Literal["chat.switch"] = "chat.switch"
    conversation: int
    message: int


class ConversationOpen(Received):
    """A conversation's state, then its live events."""

    type: Literal["conversation.open"] = "conversation.open"
    conversation: int


class ConversationHistoryAsk(Received):
    """The page of the active branch just above message `before`."""

    type: Literal["conversation.history"] = "conversation.history"
    conversation: int
    before: int


class ConversationSettings(Received):
    """What the conversation's next replies are sent with; fields left out are unchanged."""

    type: Literal["conversation.settings"] = "conversation.settings"
    conversation: int
    persona: Persona = None
    model: Model = None
    temperature: Temperature = None
    top_p: TopP = None
    max_tokens: MaxTokens = None
    system_prompt: SystemPrompt = None


class ConversationRename(Received):
    """A conversation's new title (never replaced automatically afterwards)."""

    type: Literal["conversation.rename"] = "conversation.rename"
    title: Title  # Checked first, as it always was.
    conversation: int


class ConversationPin(Received):
    """Pin a conversation, or unpin it."""

    type: Literal["conversation.pin"] = "conversation.pin"
    conversation: int
    pinned: bool


class ConversationArchive(Received):
    """Archive a conversation, or bring it back."""

    type: Literal["conversation.archive"] = "conversation.archive"
    conversation: int
    archived: bool


class ConversationMove(Received):
    """Put a conversation in one of the user's projects, or take it out (`project: null`)."""

    type: Literal["conversation.move"] = "conversation.move"
    conversation: int
    project: int | None


class ConversationDelete(Received):
    """Delete a conversation and every message in it."""

    type: Literal["conversation.delete"] = "conversation.delete"
    conversation: int


TagName = Annotated[str, Field(max_length=200)]  # Checked as a name by tags/names.py.


class ConversationTags(Received):
    """Set a conversation's tags, by name: exactly these (new names make new tags)."""

    type: Literal["conversation.tags"] = "conversation.tags"
    conversation: int
    tags: Annotated[
        list[TagName],
        Field(max_length=100),
        Says("'tags' must be a list of at most 100 names.", any_type=True),
    ]


class TagRename(Received):
    """A new name for one of the user's tags, wherever it is."""

    type: Literal["tag.rename"] = "tag.rename"
    tag: int
    name: Annotated[str, Field(max_length=200), Says("'name' must be a tag's name.")]


class TagDelete(Received):
    """Delete one of the user's tags (off every conversation; they stay)."""

    type: Literal["tag.delete"] = "tag.delete"
    tag: int


class ConversationClose(Received):
    """The page left a conversation for a new chat: a temporary one is closed."""

    type: Literal["conversation.close"] = "conversation.close"
    conversation: int


class CompareChoose(Received):
    """The user's choice among a compare's replies; the conversation goes on from `message`."""

    type: Literal["compare.choose"] = "compare.choose"
    conversation: int
    group: int
    verdict: Annotated[
        Literal["winner", "tie", "both_bad"],
        Says("'verdict' must be winner, tie or both_bad."),
    ]
    message: int | None = None
    reason: Annotated[
        str, Field(max_length=2000), Says("'reason' must be at most 2,000 characters.")
    ] = ""


# The JSON types as a client is told them.
_TYPE_WORDS = {"int_type": "an integer", "string_type": "a string", "bool_type": "true or false"}


def refusal(model: type[BaseModel], error: ErrorDetails) -> str:
    """The words for the first thing wrong with a frame, as pydantic found it."""
    if error["type"] == OWN_WORDS:
        return error["msg"]
    name = str(error["loc"][0]) if error["loc"] else "type"
    field = model.model_fields.get(name)
    null = len(error["loc"]) == 1 and error["input"] is None  # Null where one is required.
    if error["type"] == "missing" or null or field is None:
        return f"'{name}' is required."
    says = next((m for m in field.metadata if isinstance(m, Says)), None)
    wrong_type = error["type"] in _TYPE_WORDS or error["type"].endswith("_type")
    if says is not None and (says.any_type or not wrong_type):
        return says.text
    return f"'{name}' must be {_TYPE_WORDS.get(error['type'], 'of another type')}."


def settings_given(frame: BaseModel) -> dict[str, Any]:
    """The settings a frame names, as SettingsChange takes them (see inbound.py).

    `persona: null` means no persona; `model: ""` follows the persona's model again; a
    parameter's `null` (or an empty `system_prompt`) follows the persona's again. A
    `model: null` changes nothing, as it always has.
    """
    given: dict[str, Any] = {}
    for name in SETTINGS:
        if name not in frame.model_fields_set:
            continue
        value = getattr(frame, name)
        if name == "model":
            if value is None:
                continue
            value = value.strip()
        elif name == "system_prompt":
            value = value if value and value.strip() else ""
        given[name] = value
    return given
