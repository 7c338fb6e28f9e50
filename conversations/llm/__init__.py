"""OpenAI-compatible chat completions client: wire format only, no Django."""

from .client import ChatRequest, LLMClient
from .errors import LLMError
from .events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from .messages import TOOL_CHOICE_KEYWORDS, ChatMessage, ToolCall, ToolSpec

__all__ = [
    "TOOL_CHOICE_KEYWORDS",
    "ChatMessage",
    "ChatRequest",
    "Finish",
    "LLMClient",
    "LLMError",
    "ReasoningDelta",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "Usage",
]
