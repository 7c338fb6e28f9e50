"""The server's frames (conversations/chat/frames/server.py): only declared fields reach
a browser, optional ones are left out rather than sent as null."""

import pytest
from pydantic import ValidationError

from conversations.chat.frames.server import MessageDelta


def test_a_delta_leaves_out_what_it_does_not_carry():
    frame = MessageDelta.build(conversation=1, message=2, seq=0, content="a")
    assert frame == {
        "type": "message.delta",
        "conversation": 1,
        "message": 2,
        "seq": 0,
        "content": "a",
    }


def test_a_delta_with_finished_blocks_carries_them():
    frame = MessageDelta.build(
        conversation=1, message=2, seq=1, content="", blocks="<p>a</p>", stable=3
    )
    assert frame["blocks"] == "<p>a</p>" and frame["stable"] == 3


def test_a_field_no_model_declares_never_reaches_a_browser():
    with pytest.raises(ValidationError):
        MessageDelta.build(conversation=1, message=2, seq=0, content="a", owner_email="x@y")
