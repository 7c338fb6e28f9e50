"""OpenAI-compatible chat completions client: wire format only, no Django."""

from .client import ChatRequest, LLMClient
from .errors import LLMError
from .events import Finish, ReasoningDelta, Retrying, TextDelta, ToolCallDelta, Usage
from .messages import TOOL_CHOICE_KEYWORDS, ChatMessage, ImagePart, TextPart, ToolCall, ToolSpec

__all__ = [
    "TOOL_CHOICE_KEYWORDS",
    "ChatMessage",
    "ChatRequest",
    "Finish",
    "ImagePart",
    "LLMClient",
    "LLMError",
    "ReasoningDelta",
    "Retrying",
    "TextDelta",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "Usage",
]
