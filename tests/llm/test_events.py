"""The typed events a completion's chunks become, in the order the stream gives them."""

import pytest

from conversations.llm.errors import LLMError
from conversations.llm.events import (
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from conversations.llm.sse import ChunkReader


def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
    return {"choices": [{"delta": delta, "finish_reason": finish}], **extra}


def test_each_kind_of_chunk_becomes_its_event():
    reader = ChunkReader(prompt_estimate=12)
    events = [
        *reader.read(chunk({"reasoning_content": "Thinking."})),
        *reader.read(chunk({"content": "Hello"})),
        *reader.read(
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{"}}
                    ]
                }
            )
        ),
        *reader.read(chunk({}, "tool_calls", usage={"prompt_tokens": 5, "completion_tokens": 3})),
        *reader.finish(),
    ]
    assert events == [
        ReasoningDelta("Thinking."),
        TextDelta("Hello"),
        ToolCallDelta(index=0, id="c1", name="f", arguments="{"),
        Usage(prompt_tokens=5, completion_tokens=3),
        Finish("tool_calls"),
    ]


def test_a_stream_without_usage_ends_with_an_estimate():
    reader = ChunkReader(prompt_estimate=12)
    events = [*reader.read(chunk({"content": "a"})), *reader.read(chunk({"content": "b"}, "stop"))]
    events += reader.finish()
    assert events[-2:] == [Usage(12, 2, estimated=True), Finish("stop")]


def test_events_are_values():
    assert TextDelta("a") == TextDelta("a") and len({TextDelta("a"), TextDelta("a")}) == 1
    with pytest.raises(AttributeError):
        TextDelta("a").text = "b"  # type: ignore[misc]


def test_an_error_chunk_or_no_chunk_at_all_is_an_error():
    with pytest.raises(LLMError, match="reported an error: overloaded"):
        list(ChunkReader().read({"error": {"message": "overloaded"}}))
    with pytest.raises(LLMError, match="could not be read"):
        list(ChunkReader().finish())
