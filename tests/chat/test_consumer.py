"""The websocket protocol end to end: real ASGI app, real database, fake upstream over HTTP."""

import asyncio
import logging
import os

import pytest
from channels.db import database_sync_to_async as db

from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from tests.conftest import API_KEY
from tests.fake_upstream import chunk, error_reply, sse, text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, send_frame, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def test_full_turn(connect, user, fake_upstream):
    fake_upstream.script(text_stream("Hello", " there", "!", usage=(9, 3)))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="Hi")

    created = by_type(frames, "conversation.created")[0]
    conversation_id = created["conversation"]
    assert created["title"] == "Hi"
    user_created, reply_created = by_type(frames, "message.created")
    assert user_created["message"]["client_id"] == "c1"
    assert user_created["message"]["role"] == "user"
    assert reply_created["message"]["status"] == "streaming"
    deltas = by_type(frames, "message.delta")
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert "".join(d["content"] for d in deltas) == "Hello there!"
    assert reply["status"] == "complete"
    assert reply["finish_reason"] == "stop"
    assert reply["usage"] == {"prompt_tokens": 9, "completion_tokens": 3, "estimated": False}
    assert reply["html"] == "<p>Hello there!</p>\n"

    saved = await db(list)(Message.objects.filter(conversation_id=conversation_id).order_by("id"))
    assert [(m.role, m.content, m.status) for m in saved] == [
        ("user", "Hi", "complete"),
        ("assistant", "Hello there!", "complete"),
    ]
    assert saved[1].parent_id == saved[0].pk
    assert saved[1].prompt_tokens == 9 and saved[1].model == "test-model"
    sent = fake_upstream.completions()[0].body
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]
    assert sent["model"] == "test-model"


async def test_second_turn_sends_the_whole_history_with_persona(connect, user, fake_upstream):
    persona = await db(Persona.objects.create)(
        name="Reviewer", system_prompt="You review code.", temperature=0.3, max_tokens=400
    )
    fake_upstream.script(text_stream("First answer"), text_stream("Second answer"))
    fake_upstream.models["data"].append({"id": "m-1"})  # A model the provider lists.
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Question one", persona=persona.pk, model="m-1")
    conversation_id = frames[0]["conversation"]
    await wait_idle(conversation_id)
    _, reply2 = await full_turn(
        ws, content="Question two", client_id="c2", conversation=conversation_id
    )

    assert reply2["model"] == "m-1"  # What we asked for, whatever the server echoes.
    second = fake_upstream.completions()[1].body
    assert second["messages"] == [
        {"role": "system", "content": persona.system_prompt},
        {"role": "user", "content": "Question one"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "Question two"},
    ]
    assert second["model"] == "m-1"
    assert second["temperature"] == 0.3 and second["max_tokens"] == 400


async def test_stop_keeps_partial_text(connect, user, fake_upstream):
    fake_upstream.script(sse(*[chunk({"content": f"w{i} "}) for i in range(200)], delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame())
    frames = await receive_until(ws, "message.delta")
    conversation_id = frames[0]["conversation"]
    await ws.send_json_to({"type": "chat.stop", "conversation": conversation_id})
    frames = await receive_until(ws, "message.completed")
    reply = frames[-1]["message"]
    assert reply["status"] == "stopped"
    assert reply["content"].startswith("w0 ")
    saved = await db(Message.objects.get)(pk=reply["id"])
    assert saved.status == "stopped" and saved.content == reply["content"]
    assert len(saved.content.split()) < 200


async def test_disconnect_mid_stream_reply_still_completes(connect, user, fake_upstream):
    fake_upstream.script(text_stream(*[f"p{i} " for i in range(20)], delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame())
    frames = await receive_until(ws, "message.delta")
    conversation_id = frames[0]["conversation"]
    await ws.disconnect()
    await wait_idle(conversation_id)
    reply = await db(Message.objects.get)(conversation_id=conversation_id, role="assistant")
    assert reply.status == "complete"
    assert reply.content == "".join(f"p{i} " for i in range(20))

    # A new socket finds it complete.
    ws2 = await open_socket(connect, user)
    await ws2.send_json_to({"type": "conversation.open", "conversation": conversation_id})
    state = await ws2.receive_json_from()
    assert state["type"] == "conversation.state"
    assert [m["status"] for m in state["messages"]] == ["complete", "complete"]


async def test_open_mid_stream_gets_text_so_far_then_live_events(connect, user, fake_upstream):
    fake_upstream.script(text_stream(*[f"t{i} " for i in range(30)], delay=0.04))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame())
    frames = await receive_until(ws, "message.delta", seq=3)
    conversation_id = frames[0]["conversation"]

    tab2 = await open_socket(connect, user)
    await tab2.send_json_to({"type": "conversation.open", "conversation": conversation_id})
    state = await tab2.receive_json_from()
    streaming = state["messages"][-1]
    assert streaming["status"] == "streaming" and streaming["seq"] >= 3
    text = streaming["content"]
    rest = await receive_until(tab2, "message.completed")
    for delta in by_type(rest, "message.delta"):
        if delta["seq"] > streaming["seq"]:
            text += delta["content"]
    final = rest[-1]["message"]
    assert text == final["content"] == "".join(f"t{i} " for i in range(30))
    await receive_until(ws, "message.completed")


async def test_upstream_failure_mid_stream_keeps_partial_text(connect, user, fake_upstream):
    reply = sse(chunk({"content": "Partial answer"}), done=False)
    reply.steps.append(("drop",))
    fake_upstream.script(reply)
    ws = await open_socket(connect, user)
    _, message = await full_turn(ws)
    assert message["status"] == "error"
    assert message["content"] == "Partial answer"
    assert message["error"] == "The connection to the model provider was lost."
    error = await ws.receive_json_from()
    assert error["type"] == "error" and error["code"] == "upstream_error"
    assert error["message_id"] == message["id"] and error["message"] == message["error"]
    saved = await db(Message.objects.get)(pk=message["id"])
    assert saved.content == "Partial answer" and saved.error_detail.startswith("ClientPayloadError")


async def test_upstream_error_is_saved_for_staff_and_retry_works(connect, user, fake_upstream):
    fake_upstream.script(
        error_reply(401, {"error": {"message": "Invalid API key provided"}}),
        text_stream("Recovered"),
    )
    ws = await open_socket(connect, user)
    frames, failed = await full_turn(ws)
    assert failed["error"] == "The model provider rejected the API key."
    saved = await db(Message.objects.get)(pk=failed["id"])
    assert "Invalid API key provided" in saved.error_detail
    await ws.receive_json_from()  # the upstream_error frame

    conversation_id = frames[0]["conversation"]
    await ws.send_json_to(
        {"type": "chat.regenerate", "conversation": conversation_id, "message": failed["id"]}
    )
    frames = await receive_until(ws, "message.completed")
    retry = frames[-1]["message"]
    assert retry["status"] == "complete" and retry["content"] == "Recovered"
    assert retry["parent"] == failed["parent"]
    # The failed, empty reply is not sent upstream again.
    assert fake_upstream.completions()[1].body["messages"] == [{"role": "user", "content": "Hello"}]
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.current_leaf_id == retry["id"]


async def test_busy_while_a_reply_streams(connect, user, fake_upstream):
    fake_upstream.script(text_stream(*["x"] * 20, delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame())
    frames = await receive_until(ws, "message.delta")
    conversation_id = frames[0]["conversation"]
    await ws.send_json_to(send_frame("Another", client_id="c2", conversation=conversation_id))
    frames = await receive_until(ws, "error")
    assert frames[-1]["code"] == "busy" and frames[-1]["client_id"] == "c2"
    await receive_until(ws, "message.completed")
    count = await db(Message.objects.filter(conversation_id=conversation_id, role="user").count)()
    assert count == 1  # The refused message was not saved.


async def test_repeated_client_id_creates_nothing(connect, user, fake_upstream):
    fake_upstream.script(text_stream("Once"))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, client_id="same")
    conversation_id = frames[0]["conversation"]
    first_id = by_type(frames, "message.created")[0]["message"]["id"]

    # Resent, as after a reconnect: once with the conversation, once with null.
    for conversation in (conversation_id, None):
        await ws.send_json_to(send_frame(client_id="same", conversation=conversation))
        frames = await receive_until(ws, "message.created")
        assert frames[-1]["message"]["id"] == first_id
    assert await db(Message.objects.count)() == 2
    assert await db(Conversation.objects.count)() == 1
    assert len(fake_upstream.completions()) == 1


async def test_anonymous_is_refused_with_4401(connect):
    ws = await connect(None)
    connected, _ = await ws.connect()
    assert connected  # Accepted only to deliver the close code.
    closed = await ws.receive_output()
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_foreign_origin_is_refused(connect, user):
    ws = await connect(user, origin="http://evil.example")
    connected, _ = await ws.connect()
    assert not connected


async def test_other_users_conversation_is_not_found(connect, user, other_user, fake_upstream):
    fake_upstream.script(text_stream("private"))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws)
    conversation_id = frames[0]["conversation"]

    intruder = await open_socket(connect, other_user)
    missing = conversation_id + 1000
    answers = []
    for target in (conversation_id, missing):
        for frame in (
            {"type": "conversation.open", "conversation": target},
            send_frame("hi", client_id=f"x{target}", conversation=target),
            {"type": "chat.stop", "conversation": target},
            {"type": "chat.regenerate", "conversation": target, "message": reply["id"]},
        ):
            await intruder.send_json_to(frame)
            answer = await intruder.receive_json_from()
            answer.pop("client_id", None)
            answers.append(answer)
    assert all(a["type"] == "error" and a["code"] == "not_found" for a in answers)
    assert answers[:4] == answers[4:]  # Exactly as for an id that does not exist.
    assert await intruder.receive_nothing(0.2)
    assert await db(Message.objects.count)() == 2


async def test_other_users_persona_is_not_found(connect, user, other_user, fake_upstream):
    private = await db(Persona.objects.create)(
        name="Mine", owner=other_user, system_prompt="secret"
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(persona=private.pk))
    answer = await ws.receive_json_from()
    assert answer == {
        "type": "error",
        "code": "not_found",
        "message": "That persona does not exist.",
        "client_id": "c1",
    }
    assert await db(Message.objects.count)() == 0


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        '{"type": "chat.dance"}',
        '{"type": "chat.send", "client_id": "a", "conversation": "1", "content": "x"}',
        '{"type": "chat.send", "client_id": "a", "conversation": null, "content": 5}',
        '{"type": "chat.send", "client_id": "a", "conversation": true, "content": "x"}',
        '{"type": "chat.send", "conversation": null, "content": "x"}',
        '{"type": "chat.send", "client_id": "a", "conversation": null, "content": "   "}',
        '{"type": "chat.stop"}',
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays_open(
    connect, user, fake_upstream, frame
):
    ws = await open_socket(connect, user)
    await ws.send_to(text_data=frame)
    answer = await ws.receive_json_from()
    assert answer["type"] == "error" and answer["code"] == "bad_request"
    assert answer["message"]
    fake_upstream.script(text_stream("still here"))
    _, reply = await full_turn(ws, client_id="after")
    assert reply["content"] == "still here"


async def test_binary_frame_gets_an_error(connect, user):
    ws = await open_socket(connect, user)
    await ws.send_to(bytes_data=b"\x00\x01")
    answer = await ws.receive_json_from()
    assert answer["code"] == "bad_request"
    await ws.send_json_to({"type": "conversation.open", "conversation": 999})
    assert (await ws.receive_json_from())["code"] == "not_found"


async def test_too_long_saves_nothing(connect, user, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 10
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame("x" * 11))
    answer = await ws.receive_json_from()
    assert answer["code"] == "too_long" and answer["client_id"] == "c1"
    assert await db(Message.objects.count)() == 0
    assert await db(Conversation.objects.count)() == 0


async def test_two_tabs_both_receive_live_events(connect, user, fake_upstream):
    fake_upstream.script(text_stream("one"), text_stream("two", delay=0.05))
    tab1 = await open_socket(connect, user)
    frames, _ = await full_turn(tab1)
    conversation_id = frames[0]["conversation"]
    tab2 = await open_socket(connect, user)
    await tab2.send_json_to({"type": "conversation.open", "conversation": conversation_id})
    await receive_until(tab2, "conversation.state")
    await wait_idle(conversation_id)
    await tab1.send_json_to(send_frame("again", client_id="c2", conversation=conversation_id))
    done1 = await receive_until(tab1, "message.completed")
    done2 = await receive_until(tab2, "message.completed")
    assert done1[-1] == done2[-1]
    assert by_type(done2, "message.created")[0]["message"]["content"] == "again"


async def test_new_conversation_is_announced_to_other_tabs(connect, user, fake_upstream):
    fake_upstream.script(text_stream("hi"))
    tab1 = await open_socket(connect, user)
    tab2 = await open_socket(connect, user)
    await full_turn(tab1, content="Plan a trip")
    created = await tab2.receive_json_from()
    assert created["type"] == "conversation.created" and created["title"] == "Plan a trip"
    assert await tab2.receive_nothing(0.2)  # Not watching it: no message frames.


async def test_deltas_are_coalesced(connect, user, fake_upstream):
    # 300 one-character chunks sent at once arrive in far fewer frames.
    fake_upstream.script(text_stream(*["a"] * 300))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws)
    deltas = by_type(frames, "message.delta")
    assert reply["content"] == "a" * 300
    assert len(deltas) < 30


async def test_reasoning_is_streamed_and_stored_apart(connect, user, fake_upstream):
    fake_upstream.script(text_stream("<think>hmm</think>", "Answer"))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws)
    assert reply["content"] == "Answer" and reply["reasoning"] == "hmm"
    assert "".join(d.get("reasoning", "") for d in by_type(frames, "message.delta")) == "hmm"
    await wait_idle(frames[0]["conversation"])
    fake_upstream.script(text_stream("Next"))
    await full_turn(ws, content="More", client_id="c2", conversation=frames[0]["conversation"])
    history = fake_upstream.completions()[1].body["messages"]
    assert history[1] == {"role": "assistant", "content": "Answer"}  # Reasoning never goes back.
    assert "hmm" not in str(history)


async def test_api_key_never_reaches_the_socket_or_logs(connect, user, fake_upstream, caplog):
    caplog.set_level(logging.DEBUG)
    fake_upstream.script(error_reply(401, {"error": {"message": f"bad key {API_KEY}"}}))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws)
    frames.append(await ws.receive_json_from())
    assert API_KEY not in repr(frames)
    saved = await db(Message.objects.get)(role="assistant")
    assert API_KEY not in saved.error_detail
    assert fake_upstream.completions()[0].headers["Authorization"] == f"Bearer {API_KEY}"
    assert caplog.records and API_KEY not in caplog.text


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="only the Redis channel layer can drop idle sockets"
)
async def test_an_idle_socket_survives_on_redis(connect, user, fake_upstream):
    # redis-py 8's default 5 s read timeout used to kill every idle consumer.
    ws = await open_socket(connect, user)
    await asyncio.sleep(6.5)
    fake_upstream.script(text_stream("still here"))
    _, reply = await full_turn(ws)
    assert reply["content"] == "still here"
