"""OpenAI-compatible chat completions client: wire format only, no Django."""

from .client import ChatRequest, LLMClient
from .errors import LLMError
from .events import Finish, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta, Usage

__all__ = [
    "ChatRequest",
    "Finish",
    "LLMClient",
    "LLMError",
    "ReasoningDelta",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]
