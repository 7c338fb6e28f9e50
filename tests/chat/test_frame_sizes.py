"""Frames of any size: a conversation of long answers opens page by page, and a reply
larger than a websocket message reaches every watcher whole."""

import json
import threading

import pytest
from channels.db import database_sync_to_async as db
from django.conf import settings

from conversations import services
from tests import factories
from tests.fake_upstream import text_stream
from tests.helpers import open_socket, receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

WEBSOCKET_LIMIT = 1024 * 1024  # daphne's websocket_max_message_size, left as it is.


def long_answers(user, count: int, size: int):
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Long")
    parent = None
    for i in range(count):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"Question {i}", parent=parent
        )
        parent = factories.message_append(
            conversation=conversation,
            role="assistant",
            content=f"Answer {i}: " + ("lorem ipsum " * (size // 12)),
            parent=parent,
        )
    return conversation


async def test_a_conversation_of_long_answers_opens_page_by_page(connect, user):
    conversation = await db(long_answers)(user, 30, 40_000)  # About 1.2 MB.
    ws = await open_socket(connect, user)
    await ws.send_json_to({"type": "conversation.open", "conversation": conversation.pk})
    raw = await ws.receive_from(timeout=10)
    assert len(raw) <= settings.CHAT_PAGE_BYTES + 100_000  # One page, not the whole thing.
    state = json.loads(raw)
    assert state["type"] == "conversation.state" and state["has_more"] is True
    seen = [m["content"] for m in state["messages"]]
    first = state["messages"][0]["id"]
    while True:
        await ws.send_json_to(
            {"type": "conversation.history", "conversation": conversation.pk, "before": first}
        )
        raw = await ws.receive_from(timeout=10)
        assert len(raw) < WEBSOCKET_LIMIT
        page = json.loads(raw)
        seen = [m["content"] for m in page["messages"]] + seen
        if not page["has_more"]:
            break
        first = page["messages"][0]["id"]
    assert len(seen) == 60
    assert [s.split(":")[0] for s in seen[1::2]] == [f"Answer {i}" for i in range(30)]


async def test_a_reply_larger_than_a_websocket_message_reaches_every_watcher(
    connect, user, fake_upstream
):
    piece = "The quick brown fox jumps over the lazy dog. " * 200  # 9 KB.
    reply = text_stream(*[piece] * 150)  # 1.35 MB in all.
    watching = threading.Event()  # The stream goes on once the watcher has the state.
    reply.steps.insert(2, ("wait", watching))
    fake_upstream.script(reply)
    writer = await open_socket(connect, user)
    watcher = await open_socket(connect, user)
    await writer.send_json_to(send_frame(content="Write a lot"))
    frames = await receive_until(writer, "message.created", role=None)
    conversation = frames[0]["conversation"]
    await watcher.send_json_to({"type": "conversation.open", "conversation": conversation})
    state = (await receive_until(watcher, "conversation.state"))[-1]
    assert state["messages"][-1]["status"] == "streaming"  # Joined mid-reply.
    watching.set()
    for socket in (writer, watcher):
        message = await completed_within_limit(socket)
        assert message["status"] == "complete"
        assert message["content"] == piece * 150


async def completed_within_limit(socket) -> dict:
    """The reply's message.completed, joined from parts; every websocket message fits."""
    parts, used_parts = {}, False
    while True:
        raw = await socket.receive_from(timeout=30)
        assert len(raw.encode()) < WEBSOCKET_LIMIT
        frame = json.loads(raw)
        if frame["type"] == "frame.part":
            used_parts = True
            parts.setdefault(frame["id"], {})[frame["index"]] = frame["data"]
            if len(parts[frame["id"]]) < frame["count"]:
                continue
            got = parts.pop(frame["id"])
            frame = json.loads("".join(got[i] for i in range(frame["count"])))
        if frame["type"] == "message.completed" and frame["message"]["role"] == "assistant":
            assert used_parts
            return frame["message"]
