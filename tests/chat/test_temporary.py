"""Temporary chats over the websocket: started by a flag on the first `chat.send`, never
listed, searched or in the all-export, closed as their socket leaves them (then deleted by
the runner), reopened if opened again first, limited like any chat, and nobody else's."""

import pytest
from channels.db import database_sync_to_async as db
from django.test import Client

from conversations.deletion import runner
from conversations.models import Conversation
from tests.fake_upstream import text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, send_frame, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def closed_at(conversation_id: int):
    return Conversation.objects.values_list("closed_at", flat=True).get(pk=conversation_id)


def exists(conversation_id: int) -> bool:
    return Conversation.objects.filter(pk=conversation_id).exists()


def purge() -> runner.RunReport:
    return runner.run(owner="test-runner")


async def start_temporary(ws, content="Secret plans for a kayak", client_id="t1") -> int:
    frames, reply = await full_turn(ws, content=content, client_id=client_id, temporary=True)
    created = by_type(frames, "conversation.created")[0]
    assert created["temporary"] is True
    assert reply["status"] == "complete"
    await wait_idle(created["conversation"])
    return created["conversation"]


def seen_over_http(user) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "listed": [c["id"] for c in client.get("/conversations.json").json()["conversations"]],
        "searched": [
            h["conversation"] for h in client.get("/search.json?q=kayak").json()["results"]
        ],
        "exported": [c["id"] for c in client.get("/export/all.json").json()["conversations"]],
    }


async def test_a_temporary_chat_is_never_listed_searched_or_exported(connect, user, fake_upstream):
    fake_upstream.script(text_stream("Noted."), text_stream("Saved."))
    ws = await open_socket(connect, user)
    temporary = await start_temporary(ws)
    frames, _ = await full_turn(ws, content="A saved kayak trip", client_id="s1")
    saved = by_type(frames, "conversation.created")[0]
    assert saved["temporary"] is False

    seen = await db(seen_over_http)(user)
    assert seen["listed"] == [saved["conversation"]]
    assert seen["searched"] == [saved["conversation"]]
    assert seen["exported"] == [saved["conversation"]]
    # Its owner may still export it alone while it is open (its page links to it).
    client = Client()
    await db(client.force_login)(user)
    response = await db(client.get)(f"/conversations/{temporary}/export.json")
    assert response.status_code == 200
    assert (await db(Conversation.objects.get)(pk=temporary)).temporary


async def test_leaving_it_closes_it_and_the_runner_deletes_it(connect, user, fake_upstream):
    fake_upstream.script(*[text_stream("Fine.") for _ in range(4)])
    ws = await open_socket(connect, user)

    first = await start_temporary(ws, client_id="t1")
    _, _ = await full_turn(ws, content="Saved", client_id="s1")
    assert await db(closed_at)(first) is not None  # A new chat leaves it.
    second = await start_temporary(ws, client_id="t2")  # Opening another one leaves it.
    saved = await db(
        Conversation.objects.filter(temporary=False).values_list("pk", flat=True).get
    )()
    await ws.send_json_to({"type": "conversation.open", "conversation": saved})
    await receive_until(ws, "conversation.state")
    assert await db(closed_at)(second) is not None

    # Opened again before the runner ran, it is open again (a page reconnecting).
    await ws.send_json_to({"type": "conversation.open", "conversation": second})
    state = (await receive_until(ws, "conversation.state"))[-1]
    assert state["temporary"] is True
    assert await db(closed_at)(second) is None

    # Disconnecting leaves it too.
    await ws.disconnect()
    assert await db(closed_at)(second) is not None
    report = await db(purge)()
    assert report.counts["temporary"]["conversations"] == 2
    assert not await db(exists)(first) and not await db(exists)(second)
    assert await db(exists)(saved)


async def test_a_reply_streaming_as_it_closes_ends_cleanly_before_it_goes(
    connect, user, fake_upstream
):
    fake_upstream.script(text_stream(*[f"w{i} " for i in range(40)], delay=0.02))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(client_id="t1", temporary=True))
    created = (await receive_until(ws, "conversation.created"))[-1]
    conversation_id = created["conversation"]
    await receive_until(ws, "message.delta")
    await ws.disconnect()  # Closed with its reply still streaming.

    assert await db(closed_at)(conversation_id) is not None
    await db(purge)()
    assert await db(exists)(conversation_id)  # The turn holds the lease: it stays.
    await wait_idle(conversation_id)  # The reply ends as usual, nothing raises.
    await db(purge)()
    assert not await db(exists)(conversation_id)


async def test_nobody_else_can_open_close_or_delete_it(connect, user, other_user, fake_upstream):
    fake_upstream.script(text_stream("Mine."))
    ws = await open_socket(connect, user)
    mine = await start_temporary(ws)

    intruder = await open_socket(connect, other_user)
    for frame in (
        {"type": "conversation.open", "conversation": mine},
        {"type": "conversation.rename", "conversation": mine, "title": "Mine now"},
        {"type": "conversation.delete", "conversation": mine},
    ):
        await intruder.send_json_to(frame)
        assert (await intruder.receive_json_from())["code"] == "not_found"
    # Sending into it is refused, and their leaving closes nothing of someone else's.
    await intruder.send_json_to(send_frame(client_id="x", conversation=mine))
    assert (await intruder.receive_json_from())["code"] == "not_found"
    await intruder.disconnect()
    assert await db(closed_at)(mine) is None
    await db(purge)()
    assert await db(exists)(mine)


async def test_it_obeys_the_limits_of_any_chat(connect, user, fake_upstream, settings):
    settings.CHAT_MAX_RUNNING_TURNS = 1
    fake_upstream.script(text_stream(*[f"w{i} " for i in range(100)], delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(client_id="a"))
    await receive_until(ws, "message.delta")
    await ws.send_json_to(send_frame(client_id="b", temporary=True))
    error = (await receive_until(ws, "error", client_id="b"))[-1]
    assert error["code"] == "rate_limited" and error["limit"] == "running_turns"
    assert not await db(Conversation.objects.filter(temporary=True).exists)()
    running = await db(Conversation.objects.values_list("pk", flat=True).get)()
    await ws.send_json_to({"type": "chat.stop", "conversation": running})
    await wait_idle(running)


async def test_turning_to_a_new_chat_closes_it_and_only_its_owner_may(
    connect, user, other_user, fake_upstream
):
    fake_upstream.script(text_stream("Mine."), text_stream("Saved."))
    ws = await open_socket(connect, user)
    mine = await start_temporary(ws)
    _, _ = await full_turn(ws, content="Saved", client_id="s1")
    saved = await db(
        Conversation.objects.filter(temporary=False).values_list("pk", flat=True).get
    )()
    await db(Conversation.objects.filter(pk=mine).update)(closed_at=None)

    intruder = await open_socket(connect, other_user)
    await intruder.send_json_to({"type": "conversation.close", "conversation": mine})
    assert (await intruder.receive_json_from())["code"] == "not_found"
    assert await db(closed_at)(mine) is None

    for conversation in (saved, mine):
        await ws.send_json_to({"type": "conversation.close", "conversation": conversation})
    await ws.send_json_to({"type": "conversation.open", "conversation": saved})
    await receive_until(ws, "conversation.state")  # Frames are handled in order.
    assert await db(closed_at)(saved) is None
    assert await db(closed_at)(mine) is not None
