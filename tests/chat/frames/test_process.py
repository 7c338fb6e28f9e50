"""Messages between server processes (conversations/chat/frames/process.py): checked on
arrival, so a message of another shape is refused rather than acted on."""

import pytest
from pydantic import ValidationError

from conversations.chat.frames.process import TurnSnapshot, TurnStop


def test_a_stop_names_a_conversation():
    assert TurnStop.model_validate({"type": "turn.stop", "conversation": 4}).conversation == 4
    with pytest.raises(ValidationError):
        TurnStop.model_validate({"type": "turn.stop", "conversation": "4"})


def test_a_snapshot_request_needs_somewhere_to_reply():
    with pytest.raises(ValidationError):
        TurnSnapshot.model_validate({"type": "turn.snapshot", "conversation": 1, "reply_to": ""})
