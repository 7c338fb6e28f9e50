"""A browser's frames (conversations/chat/frames/client.py) validated with the server's
limits as context: unknown tools, overlong prompts and out-of-range settings are refused
in the protocol's own words."""

import pytest
from pydantic import ValidationError

from conversations.chat.frames.client import ChatEdit, ChatSend, Limits

LIMITS = Limits(tools=frozenset({"calculator"}), max_chars=10)


def send(**fields):
    frame = {"type": "chat.send", "client_id": "c1", "content": "hi", **fields}
    return ChatSend.model_validate(frame, context=LIMITS)


def test_a_plain_send_is_valid():
    assert send().content == "hi"


@pytest.mark.parametrize(
    "fields",
    [
        {"tools": ["rm_rf"]},
        {"tool_choice": "rm_rf"},
        {"system_prompt": "x" * 11},
        {"temperature": 2.5},
        {"top_p": -0.1},
        {"max_tokens": 0},
        {"client_id": ""},
        {"persona": "3"},
    ],
)
def test_what_the_limits_forbid_is_refused(fields):
    with pytest.raises(ValidationError):
        send(**fields)


def test_a_known_tool_and_keyword_choices_pass():
    assert send(tools=["calculator"], tool_choice="calculator").tools == ["calculator"]
    assert send(tool_choice="auto").tool_choice == "auto"


def test_frames_need_the_servers_limits():
    with pytest.raises((TypeError, ValidationError)):
        ChatSend.model_validate(
            {"type": "chat.send", "client_id": "c", "content": "x", "tools": ["calculator"]}
        )


def test_an_edit_names_its_conversation_and_message():
    with pytest.raises(ValidationError):
        ChatEdit.model_validate(
            {"type": "chat.edit", "client_id": "c", "content": "x", "conversation": 1},
            context=LIMITS,
        )
