"""Typed events yielded by a streaming chat completion."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TextDelta:
    """A piece of the reply's visible text."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning, kept apart from the reply."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of a tool call; fragments with the same index form one call."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class Usage:
    """Token counts: the provider's, or our estimate when it reported none."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    estimated: bool = False


@dataclass(frozen=True)
class Finish:
    """The end of a stream, with the provider's finish reason when it gave one."""

    reason: str | None


@dataclass(frozen=True)
class Retrying:
    """The provider refused or failed before the reply began; it is asked again after
    `after` seconds. `reason` is fit to show a user (the provider is busy, say)."""

    after: float
    reason: str
    status: int | None = None


Event = TextDelta | ReasoningDelta | ToolCallDelta | Usage | Finish | Retrying
