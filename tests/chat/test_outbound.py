"""Server frames (chat/outbound.py): the shape of each, and frames too large for one
websocket message split into parts that join back."""

import json

import pytest

from conversations import services
from conversations.chat import outbound
from conversations.llm import ToolCall
from conversations.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return services.conversation_create(owner=user, persona=None, model="m", title="T")


def test_a_user_message_carries_no_assistant_fields(conversation):
    message = factories.message_append(
        conversation=conversation, role="user", content="**Hi**", parent=None, client_id="c1"
    )
    data = outbound.message_data(message)
    assert data["content"] == "**Hi**" and data["client_id"] == "c1"
    assert "html" not in data and "request" not in data


def test_an_assistant_message_is_rendered_and_a_streaming_one_lines_up(conversation):
    reply = factories.message_append(
        conversation=conversation,
        role="assistant",
        content="**Bold** start",
        parent=None,
        status=Message.Status.STREAMING,
    )
    data = outbound.message_data(reply)
    assert data["html"] == "<p><strong>Bold</strong> start</p>\n"
    assert (data["seq"], data["stable"]) == (0, len("**Bold** start"))
    tail = outbound.message_completed(conversation.pk, reply, html_from=9)["message"]
    assert tail["html_from"] == 9 and tail["html"] == "<p>start</p>\n"


def test_a_delta_carries_only_what_it_has():
    bare = outbound.message_delta(1, 2, seq=3, content="a")
    assert bare == {
        "type": "message.delta",
        "conversation": 1,
        "message": 2,
        "seq": 3,
        "content": "a",
    }
    full = outbound.message_delta(
        1, 2, seq=4, content="b", reasoning="r", blocks="<p>x</p>", stable=9
    )
    assert (full["reasoning"], full["blocks"], full["stable"]) == ("r", "<p>x</p>", 9)


def test_a_tool_call_frame_uses_our_shape_not_the_wire_one():
    frame = outbound.tool_call(1, 2, ToolCall(id="c", name="calculator", arguments="{}"))
    assert frame["tool_call"] == {"id": "c", "name": "calculator", "arguments": "{}"}


def test_errors_name_the_send_they_answer():
    assert outbound.error("busy", "Wait.", client_id="c9") == {
        "type": "error",
        "code": "busy",
        "message": "Wait.",
        "client_id": "c9",
    }
    assert "client_id" not in outbound.error("server_error", "Oops.")


def test_a_large_frame_splits_into_parts_that_join_back():
    frame = {"type": "message.completed", "message": {"content": 'ü"\\' * 200_000}}
    text = json.dumps(frame)
    parts = [json.loads(p) for p in outbound.split_frame(text, limit=100_000, frame_id=7)]
    assert len(parts) > 1
    assert all(len(json.dumps(p)) <= 100_000 for p in parts)
    assert [p["index"] for p in parts] == list(range(len(parts)))
    assert {p["count"] for p in parts} == {len(parts)} and {p["id"] for p in parts} == {7}
    assert json.loads("".join(p["data"] for p in parts)) == frame
