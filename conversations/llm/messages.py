"""What a request is made of, typed: messages, tool calls and tool specs.

These are the only objects that know the OpenAI JSON shape; everything outside
`llm/` builds and reads them, never the dicts.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant", "tool"]
TOOL_CHOICE_KEYWORDS = ("auto", "none", "required")


@dataclass(frozen=True)
class ToolCall:
    """One complete call the model made: which tool, with what JSON arguments."""

    id: str
    name: str
    arguments: str

    def to_wire(self) -> dict:
        """The call as it goes back upstream inside an assistant message."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    def to_stored(self) -> dict:
        """The call as the app keeps and shows it (a message's `tool_calls`, frames, exports):
        {id, name, arguments}, flat, not the wire's nested shape. `from_stored` reads it."""
        return {"id": self.id, "name": self.name, "arguments": self.arguments}

    @classmethod
    def from_stored(cls, stored: Mapping) -> "ToolCall":
        """A call kept by `to_stored` (or an imported one of the same shape)."""
        return cls(
            id=str(stored.get("id") or ""),
            name=str(stored.get("name") or ""),
            arguments=str(stored.get("arguments") or ""),
        )


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: its name, what it does and its JSON-schema parameters."""

    name: str
    description: str
    parameters: dict

    def to_wire(self) -> dict:
        """The tool as a request's `tools` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class TextPart:
    """Text in a message of several parts."""

    text: str

    def to_wire(self) -> dict:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True)
class ImagePart:
    """An image in a message, sent as a data URL. `tokens` is what it is counted as; the
    bytes are left out of comparisons and repr (a message is compared and printed often)."""

    media_type: str
    data: bytes = field(repr=False, compare=False)
    tokens: int = 0

    def to_wire(self) -> dict:
        encoded = base64.b64encode(self.data).decode("ascii")
        return {
            "type": "image_url",
            "image_url": {"url": f"data:{self.media_type};base64,{encoded}"},
        }


Part = TextPart | ImagePart


@dataclass(frozen=True)
class ChatMessage:
    """One message of a request's history. `content` is text, or (a user message with
    images) a tuple of parts: its text first, then the images."""

    role: Role
    content: str | tuple[Part, ...] = ""
    tool_calls: tuple[ToolCall, ...] = field(default=())
    tool_call_id: str = ""  # For role "tool": the call this answers.

    @property
    def text(self) -> str:
        """The message's text, without its images."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        if isinstance(self.content, str):
            return ()
        return tuple(part for part in self.content if isinstance(part, ImagePart))

    def to_wire(self) -> dict:
        """The message as the completions API takes it."""
        if self.role == "tool":
            return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.content}
        content = (
            self.content
            if isinstance(self.content, str)
            else [part.to_wire() for part in self.content]
        )
        wire: dict = {"role": self.role, "content": content}
        if self.tool_calls:
            wire["tool_calls"] = [call.to_wire() for call in self.tool_calls]
        return wire


def tool_choice_to_wire(choice: str) -> str | dict:
    """tool_choice as the API takes it: a keyword, or the named-function object."""
    if choice in TOOL_CHOICE_KEYWORDS:
        return choice
    return {"type": "function", "function": {"name": choice}}
