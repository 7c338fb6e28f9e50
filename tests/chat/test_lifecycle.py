"""A turn's life: whatever happens on the way, nothing stays busy or streaming, and every
watcher hears the end. Database failures here are real ones (SQLite triggers that abort)."""

import asyncio
from contextlib import asynccontextmanager

import pytest
from channels.db import database_sync_to_async as db
from django.db import connection

from conversations.chat import lifecycle
from conversations.models import Conversation, Message
from tests.fake_upstream import text_stream
from tests.helpers import (
    by_type,
    eventually,
    full_turn,
    open_socket,
    receive_until,
    send_frame,
    wait_idle,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@asynccontextmanager
async def sqlite_trigger(sql: str):
    """A trigger that makes real statements fail, for as long as the block runs."""
    if connection.vendor != "sqlite":
        pytest.skip("fault triggers are written for SQLite")
    await db(execute)(sql)
    try:
        yield
    finally:
        await db(execute)("DROP TRIGGER IF EXISTS test_fault")


FAIL_FINISH = """CREATE TRIGGER test_fault BEFORE UPDATE OF status ON conversations_message
    WHEN NEW.status != 'streaming' BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END"""
FAIL_INSERT = """CREATE TRIGGER test_fault BEFORE INSERT ON conversations_message
    BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END"""


async def first_conversation(ws, fake_upstream) -> int:
    fake_upstream.script(text_stream("First."))
    frames, _ = await full_turn(ws, content="Hello")
    return frames[0]["conversation"]


async def test_a_stop_before_the_turn_has_run_ends_it_stopped(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    conversation = await first_conversation(ws, fake_upstream)
    fake_upstream.script(text_stream(*["x"] * 50, delay=0.05), text_stream("Again."))
    # Both frames arrive together: the stop is handled before the turn's task has run.
    await ws.send_json_to(send_frame(content="Go on", client_id="c2", conversation=conversation))
    await ws.send_json_to({"type": "chat.stop", "conversation": conversation})
    frames = await receive_until(ws, "message.completed")
    assert frames[-1]["message"]["status"] == "stopped"
    await wait_idle(conversation)  # The turn ends just after telling its watchers.
    assert lifecycle.local(conversation) is None
    saved = await db(Conversation.objects.get)(pk=conversation)
    assert saved.turn_owner == ""  # The lease went back.
    _, reply = await full_turn(ws, content="Once more", client_id="c3", conversation=conversation)
    assert reply["status"] == "complete"


async def test_a_failing_database_at_the_end_keeps_the_text_and_tells_everyone(
    connect, user, fake_upstream, caplog
):
    ws = await open_socket(connect, user)
    conversation = await first_conversation(ws, fake_upstream)
    watcher = await open_socket(connect, user)
    await watcher.send_json_to({"type": "conversation.open", "conversation": conversation})
    await receive_until(watcher, "conversation.state")
    fake_upstream.script(text_stream("Saved ", "after ", "all.", delay=0.05))
    async with sqlite_trigger(FAIL_FINISH):
        await ws.send_json_to(send_frame(content="More", client_id="c2", conversation=conversation))
        await receive_until(ws, "message.delta")
        # The finish fails, and is tried again once the database is back.
        await eventually(lambda: "Saving the end of reply" in caplog.text, what="a failed finish")
    frames = await receive_until(watcher, "message.completed", timeout=15)
    await wait_idle(conversation)
    assert frames[-1]["message"]["status"] == "complete"
    assert frames[-1]["message"]["content"] == "Saved after all."
    reply = await db(Message.objects.get)(pk=frames[-1]["message"]["id"])
    assert (reply.status, reply.content) == ("complete", "Saved after all.")
    assert (await db(Conversation.objects.get)(pk=conversation)).turn_owner == ""


async def test_a_start_that_fails_leaves_nothing_busy_or_half_saved(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    conversation = await first_conversation(ws, fake_upstream)
    count = await db(Message.objects.count)()
    async with sqlite_trigger(FAIL_INSERT):
        await ws.send_json_to(
            send_frame(content="Lost?", client_id="c2", conversation=conversation)
        )
        error = (await receive_until(ws, "error"))[-1]
    assert error["code"] == "server_error" and error["client_id"] == "c2"
    assert await db(Message.objects.count)() == count
    saved = await db(Conversation.objects.get)(pk=conversation)
    assert saved.turn_owner == ""  # The claim was rolled back with the rest.
    fake_upstream.script(text_stream("Fine."))
    _, reply = await full_turn(ws, content="Lost?", client_id="c2", conversation=conversation)
    assert reply["status"] == "complete"


async def test_progress_reaches_the_database_while_a_reply_streams(connect, user, fake_upstream):
    fake_upstream.script(text_stream(*[f"w{i} " for i in range(40)], delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Long one"))
    frames = await receive_until(ws, "message.delta")
    reply_id = by_type(frames, "message.created")[-1]["message"]["id"]
    # The save loop writes it about once a second: well before the reply ends.
    deadline = asyncio.get_running_loop().time() + 5
    while not (saved := await db(Message.objects.get)(pk=reply_id)).content:
        assert asyncio.get_running_loop().time() < deadline, "no progress was saved"
        await asyncio.sleep(0.1)
    assert saved.status == "streaming" and saved.content.startswith("w0 w1 ")
    assert saved.request and saved.request["model"] == "test-model"
    await receive_until(ws, "message.completed")
