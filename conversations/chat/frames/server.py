"""Frames the server sends a browser (docs/protocol.md, "Server → client"): one model per
`type`, and the objects they carry.

A field that is present only sometimes (`reasoning` in a delta, `client_id` on a message)
defaults to MISSING: left out of the frame, and not required by the schema. Null is a
value of its own (`"parent": null`), never the same as absent. chat/outbound.py builds
every frame through these models.
"""

from typing import Any, Literal

from pydantic import MISSING

from .base import Built

Role = Literal["user", "assistant", "system", "tool"]
Status = Literal["pending", "streaming", "complete", "stopped", "error", "interrupted"]
ErrorCode = Literal[
    "bad_request",
    "not_found",
    "busy",
    "unavailable",
    "too_long",
    "rate_limited",
    "model_unavailable",
    "upstream_error",
    "server_error",
]
LimitName = Literal[
    "running_turns",
    "turns_per_minute",
    "daily_tokens",
    "reads",
    "writes",
    "bulk",
    "frames",
    "sockets",
]


class ToolCallData(Built):
    """A tool call as frames carry it (our shape, not the provider's)."""

    id: str
    name: str
    arguments: str  # The JSON text the model wrote.


class ToolRecord(Built):
    """How one tool call went (a tool message's `tool_record`)."""

    source: str  # "builtin", or the external source's kind ("mcp").
    server: str | None  # The external server, as staff named it; null for built-in tools.
    tool: str  # The name the model called.
    remote_name: str  # The tool's own name at its server (a built-in tool's name).
    arguments: str  # The JSON text the model wrote (at most 4,000 characters of it).
    duration_ms: int
    outcome: Literal["ok", "error", "timeout", "declined", "truncated", "refused"]


class Timing(Built):
    """A reply's times, in milliseconds."""

    first_token_ms: int | None
    total_ms: int | None
    reasoning_ms: int | None


class Usage(Built):
    """A reply's tokens, as the provider reported them (or as counted, `estimated`)."""

    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool


class Feedback(Built):
    """The user's own rating of a reply."""

    rating: Literal["up", "down"]
    categories: list[str]
    comment: str
    updated_at: str


class Waiting(Built):
    """A streaming reply waiting for its provider."""

    state: Literal["waiting", "retrying"]
    seconds: int
    reason: str | MISSING = MISSING  # `retrying` only.


class AttachmentData(Built):
    """A file a user message carries (docs/protocol.md, "Files")."""

    id: str
    name: str
    size: int
    kind: Literal["text", "image"]
    content_type: str
    pages: int | None
    note: str


class CompareInfo(Built):
    """A compare's reply: its column, its name as shown, and the group's choice."""

    group: int
    slot: int
    count: int
    label: str  # "Model A"… while a blind compare has no choice yet.
    blind: bool
    revealed: bool
    verdict: Literal["winner", "tie", "both_bad"] | None
    chosen: bool


class Message(Built):
    """A message, as every frame carries it."""

    id: int
    parent: int | None
    role: Role
    content: str
    status: Status
    created_at: str | None
    client_id: str | MISSING = MISSING
    attachments: list[AttachmentData] = []  # User messages' files; empty for others.
    # Tool messages only.
    tool_call_id: str | MISSING = MISSING
    name: str | MISSING = MISSING
    tool_record: ToolRecord | MISSING | None = MISSING
    # Assistant messages only.
    tool_calls: list[ToolCallData] | MISSING = MISSING
    request: dict[str, Any] | MISSING | None = MISSING  # The record of what was sent.
    html: str | MISSING = MISSING
    reasoning: str | MISSING = MISSING
    model: str | MISSING = MISSING
    finish_reason: str | MISSING | None = MISSING
    error: str | MISSING | None = MISSING
    usage: Usage | MISSING | None = MISSING
    timing: Timing | MISSING = MISSING
    html_from: int | MISSING = MISSING
    # Streaming messages only.
    seq: int | MISSING | None = MISSING
    stable: int | MISSING = MISSING
    waiting: Waiting | MISSING = MISSING
    # A compare's replies only.
    compare: CompareInfo | MISSING = MISSING
    # In conversation.state and conversation.history only.
    siblings: list[int] | MISSING = MISSING
    feedback: Feedback | MISSING | None = MISSING


class Params(Built):
    """A conversation's own parameters over its persona's (null or "": the persona's)."""

    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    system_prompt: str


class ConversationFields(Built):
    """A conversation's identity, persona and model, and place in the sidebar."""

    conversation: int
    title: str
    model: str
    model_chosen: bool
    persona: int | None
    project: int | None = None  # The project it is in (projects/), null for none.
    pinned: bool
    archived: bool
    updated_at: str | None
    temporary: bool = False  # A temporary chat: the sidebar never lists it.
    params: Params
    tags: list[str]  # The names of its tags, sorted.


class ConversationCreated(ConversationFields):
    """One of the user's conversations was created."""

    type: Literal["conversation.created"] = "conversation.created"


class ConversationUpdated(ConversationFields):
    """Renamed, retitled, pinned, archived, or its settings changed."""

    type: Literal["conversation.updated"] = "conversation.updated"


class OpenCompare(Built):
    """A compare waiting for the user's choice: its replies, in column order."""

    group: int
    prompt: int
    blind: bool
    replies: list[Message]


class ConversationState(ConversationFields):
    """A conversation and the newest page of its active branch."""

    type: Literal["conversation.state"] = "conversation.state"
    messages: list[Message]
    has_more: bool
    model_available: bool
    # The compare answering the branch's newest user message, while it has no choice.
    compare: OpenCompare | None = None


class ConversationHistory(Built):
    """The page of the active branch just above `before`."""

    type: Literal["conversation.history"] = "conversation.history"
    conversation: int
    before: int
    messages: list[Message]
    has_more: bool


class TagInfo(Built):
    """One of the user's tags, and how many of their conversations it is on."""

    id: int
    name: str
    count: int


class TagRenamed(Built):
    """A tag's old and new name."""

    old: str
    new: str


class TagsChanged(Built):
    """The user's tags changed: all of them now, and what became of a renamed or deleted
    one (its conversations' `tags` say the old name until the page applies this)."""

    type: Literal["tags.changed"] = "tags.changed"
    tags: list[TagInfo]
    renamed: TagRenamed | None = None
    deleted: str | None = None


class ConversationDeleted(Built):
    """A conversation is gone."""

    type: Literal["conversation.deleted"] = "conversation.deleted"
    conversation: int


class MessageCreated(Built):
    """A saved user message, or a new assistant reply (status `streaming`)."""

    type: Literal["message.created"] = "message.created"
    conversation: int
    message: Message


class MessageContinued(Built):
    """An assistant reply streams again, from where it stopped."""

    type: Literal["message.continued"] = "message.continued"
    conversation: int
    message: Message


class MessageDelta(Built):
    """A streaming reply's new text, and the HTML of the Markdown blocks it finished."""

    type: Literal["message.delta"] = "message.delta"
    conversation: int
    message: int
    seq: int
    content: str
    reasoning: str | MISSING = MISSING
    blocks: str | MISSING = MISSING
    stable: int | MISSING = MISSING


class MessageWaiting(Built):
    """A streaming reply waits for its provider."""

    type: Literal["message.waiting"] = "message.waiting"
    conversation: int
    message: int
    state: Literal["waiting", "retrying"]
    seconds: int
    reason: str | MISSING = MISSING


class MessageCompleted(Built):
    """A reply's final state."""

    type: Literal["message.completed"] = "message.completed"
    conversation: int
    message: Message


class ComparedReply(Built):
    """One reply of a chosen compare, named."""

    message: int
    slot: int
    label: str
    model: str


class CompareChosen(Built):
    """The user chose among a compare's replies: their names, revealed."""

    type: Literal["compare.chosen"] = "compare.chosen"
    conversation: int
    group: int
    verdict: Literal["winner", "tie", "both_bad"]
    chosen: int | None
    reason: str
    replies: list[ComparedReply]


class MessageToolCall(Built):
    """Assistant message `message` asked for a tool."""

    type: Literal["message.tool_call"] = "message.tool_call"
    conversation: int
    message: int
    tool_call: ToolCallData


class MessageToolResult(Built):
    """A tool's result, saved as a `tool` message."""

    type: Literal["message.tool_result"] = "message.tool_result"
    conversation: int
    message: Message


class ToolApprovalRequested(Built):
    """A turn waits for the user to approve one call of a tool that asks first."""

    type: Literal["tool.approval_requested"] = "tool.approval_requested"
    conversation: int
    message: int  # The assistant message that made the call.
    call_id: str
    name: str  # The tool, as the model called it.
    server: str  # Its server, as staff named it.
    remote_name: str
    arguments: str  # The JSON text the model wrote: untrusted, shown as text.
    seconds: int  # Left to answer; then the call is declined.


class ToolApprovalSettled(Built):
    """The call no longer waits: approved, denied, past its time, or the turn stopped."""

    type: Literal["tool.approval_settled"] = "tool.approval_settled"
    conversation: int
    call_id: str
    answer: Literal["approved", "denied", "expired", "stopped"]


class FramePart(Built):
    """One part of a frame too large for one websocket message."""

    type: Literal["frame.part"] = "frame.part"
    id: int
    index: int
    count: int
    data: str


class Error(Built):
    """A frame was refused, or failed; the socket stays open."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    client_id: str | MISSING = MISSING
    retry_after: int | MISSING = MISSING  # rate_limited
    limit: LimitName | MISSING = MISSING  # rate_limited
    field: str | MISSING = MISSING  # a model not allowed
    model: str | MISSING = MISSING  # a model not allowed
    conversation: int | MISSING = MISSING  # upstream_error
    message_id: int | MISSING = MISSING  # upstream_error
    error_id: str | MISSING = MISSING  # server_error
