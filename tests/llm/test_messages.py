"""A request's messages, tool calls and tools in the OpenAI wire shape, and a tool call as
the app keeps it."""

from conversations.llm.messages import (
    ChatMessage,
    ToolCall,
    ToolSpec,
    tool_choice_to_wire,
)

CALL = ToolCall(id="call_1", name="calculator", arguments='{"expression": "2+2"}')


def test_messages_of_each_role_on_the_wire():
    assert ChatMessage("system", "Be brief.").to_wire() == {
        "role": "system",
        "content": "Be brief.",
    }
    assert ChatMessage("assistant", "", tool_calls=(CALL,)).to_wire() == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "calculator", "arguments": '{"expression": "2+2"}'},
            }
        ],
    }
    assert ChatMessage("tool", "4", tool_call_id="call_1").to_wire() == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "4",
    }


def test_a_stored_call_is_flat_and_reads_back_the_same():
    stored = CALL.to_stored()
    assert stored == {"id": "call_1", "name": "calculator", "arguments": '{"expression": "2+2"}'}
    assert ToolCall.from_stored(stored) == CALL


def test_an_imported_call_with_missing_or_odd_fields_still_reads():
    assert ToolCall.from_stored({"name": "f"}) == ToolCall(id="", name="f", arguments="")
    assert ToolCall.from_stored({"id": 7, "name": None, "arguments": {"a": 1}}) == ToolCall(
        id="7", name="", arguments="{'a': 1}"
    )


def test_tools_and_tool_choice_on_the_wire():
    spec = ToolSpec("calculator", "Arithmetic.", {"type": "object", "properties": {}})
    assert spec.to_wire() == {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Arithmetic.",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    assert [tool_choice_to_wire(choice) for choice in ("auto", "none", "required")] == [
        "auto",
        "none",
        "required",
    ]
    assert tool_choice_to_wire("calculator") == {
        "type": "function",
        "function": {"name": "calculator"},
    }
