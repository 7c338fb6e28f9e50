"""Client frames (chat/inbound.py): each type parsed into its typed command, every bad field
refused as bad_request, with the client_id when the frame carried one."""

import pytest

from conversations.chat import inbound
from conversations.chat.assembly import TurnOptions
from conversations.services import SettingsChange


def refused(frame) -> inbound.FrameError:
    with pytest.raises(inbound.FrameError) as caught:
        inbound.parse(frame)
    assert caught.value.code == "bad_request"
    return caught.value


def test_chat_send_becomes_a_send_request():
    kind, request = inbound.parse(
        {
            "type": "chat.send",
            "client_id": "c1",
            "conversation": None,
            "content": "Hi",
            "persona": 3,
            "model": "m",
            "tools": ["calculator"],
            "tool_choice": "required",
        }
    )
    assert kind == "chat.send"
    assert request == inbound.SendRequest(
        client_id="c1",
        conversation=None,
        content="Hi",
        change=SettingsChange(given=frozenset({"persona", "model"}), persona=3, model="m"),
        options=TurnOptions(tools=["calculator"], tool_choice="required"),
    )


def test_chat_edit_needs_its_conversation_and_message():
    kind, request = inbound.parse(
        {"type": "chat.edit", "client_id": "c", "conversation": 4, "message": 9, "content": "x"}
    )
    assert (kind, request.conversation, request.edit) == ("chat.edit", 4, 9)
    error = refused({"type": "chat.edit", "client_id": "c", "conversation": 4, "content": "x"})
    assert error.client_id == "c" and "'message'" in error.message


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ({"type": "chat.send", "conversation": None, "content": "x"}, "'client_id'"),
        ({"type": "chat.send", "client_id": "", "conversation": None, "content": "x"}, "1 to 100"),
        ({"type": "chat.send", "client_id": "c" * 101, "conversation": None, "content": "x"}, "1 to 100"),
        ({"type": "chat.send", "client_id": "c", "conversation": True, "content": "x"}, "an integer"),
        ({"type": "chat.send", "client_id": "c", "conversation": None, "content": 5}, "a string"),
        ({"type": "chat.send", "client_id": "c", "conversation": None, "content": "x", "tools": ["nope"]}, "Unknown tool"),
        ({"type": "chat.send", "client_id": "c", "conversation": None, "content": "x", "tool_choice": "sometimes"}, "tool_choice"),
        ({"type": "chat.send", "client_id": "c", "conversation": None, "content": "x", "model": "m" * 201}, "200 characters"),
    ],
)  # fmt: skip
def test_a_bad_field_in_a_send_is_refused_with_its_client_id(frame, words):
    error = refused(frame)
    assert words in error.message
    client_id = frame.get("client_id")
    if isinstance(client_id, str) and 0 < len(client_id) <= 100:
        assert error.client_id == client_id  # A valid one comes back, for the page to match.


def test_history_asks_for_the_page_before_a_message():
    _, command = inbound.parse({"type": "conversation.history", "conversation": 2, "before": 40})
    assert command == inbound.HistoryCommand(conversation=2, before=40)


def test_conversation_commands():
    assert inbound.parse({"type": "chat.stop", "conversation": 1}) == (
        "chat.stop",
        inbound.StopCommand(1),
    )
    stop_one = {"type": "chat.stop", "conversation": 1, "message": 9}
    assert inbound.parse(stop_one)[1] == inbound.StopCommand(1, 9)
    assert inbound.parse({"type": "conversation.rename", "conversation": 1, "title": "T"})[1] == (
        inbound.RenameCommand(1, "T")
    )
    assert inbound.parse({"type": "conversation.pin", "conversation": 1, "pinned": True})[1] == (
        inbound.FlagCommand(1, pinned=True)
    )
    assert inbound.parse({"type": "chat.switch", "conversation": 1, "message": 2})[1] == (
        inbound.MessageCommand(1, 2)
    )
    assert refused({"type": "conversation.rename", "conversation": 1, "title": " "}).message
    assert refused({"type": "conversation.pin", "conversation": 1, "pinned": 1}).message


@pytest.mark.parametrize("frame", [[], "chat.send", {"type": 7}, {"type": "chat.fly"}, {}])
def test_what_is_not_a_frame_of_ours(frame):
    refused(frame)
