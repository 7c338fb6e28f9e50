"""Versions and organising over the websocket: regenerate, edit, switch, pages, rename, pin,
archive, delete, automatic titles."""

import asyncio

import pytest
from channels.db import database_sync_to_async as db

from conversations import services
from conversations.chat import titles
from conversations.chat.titles import TITLE_PROMPT
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from tests import factories
from tests.fake_upstream import text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def start_conversation(ws, fake_upstream, *replies):
    """Two turns: q1/a1, q2/a2. Returns the conversation id and the four message ids."""
    fake_upstream.script(text_stream("a1"), text_stream("a2"), *replies)
    frames, a1 = await full_turn(ws, content="q1", client_id="c1")
    conversation_id = frames[0]["conversation"]
    q1 = by_type(frames, "message.created")[0]["message"]["id"]
    await wait_idle(conversation_id)
    frames, a2 = await full_turn(ws, content="q2", client_id="c2", conversation=conversation_id)
    q2 = by_type(frames, "message.created")[0]["message"]["id"]
    await wait_idle(conversation_id)
    return conversation_id, q1, a1["id"], q2, a2["id"]


async def state_of(ws, conversation_id):
    await ws.send_json_to({"type": "conversation.open", "conversation": conversation_id})
    return (await receive_until(ws, "conversation.state"))[-1]


async def test_regenerate_makes_a_sibling_and_keeps_the_old_one(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    conversation_id, q1, a1, q2, a2 = await start_conversation(
        ws, fake_upstream, text_stream("a2 again")
    )
    await ws.send_json_to(
        {"type": "chat.regenerate", "conversation": conversation_id, "message": a2}
    )
    frames = await receive_until(ws, "message.completed")
    new = frames[-1]["message"]
    assert new["parent"] == q2 and new["content"] == "a2 again"
    assert fake_upstream.completions()[-1].body["messages"] == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    old = await db(Message.objects.get)(pk=a2)
    assert old.content == "a2" and old.status == "complete"  # Untouched.
    await wait_idle(conversation_id)
    state = await state_of(ws, conversation_id)
    assert [m["id"] for m in state["messages"]] == [q1, a1, q2, new["id"]]
    assert state["messages"][-1]["siblings"] == [a2, new["id"]]
    assert state["messages"][0]["siblings"] == [q1]


async def test_edit_makes_a_new_user_version_and_a_reply(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    conversation_id, _q1, a1, q2, _a2 = await start_conversation(
        ws, fake_upstream, text_stream("edited answer")
    )
    await ws.send_json_to(
        {
            "type": "chat.edit",
            "conversation": conversation_id,
            "message": q2,
            "content": "q2 edited",
            "client_id": "e1",
        }
    )
    frames = await receive_until(ws, "message.completed")
    edited = by_type(frames, "message.created")[0]["message"]
    assert (
        edited["parent"] == a1 and edited["content"] == "q2 edited" and edited["client_id"] == "e1"
    )
    assert fake_upstream.completions()[-1].body["messages"][-1] == {
        "role": "user",
        "content": "q2 edited",
    }
    assert (await db(Message.objects.get)(pk=q2)).content == "q2"
    await wait_idle(conversation_id)
    state = await state_of(ws, conversation_id)
    assert [m["content"] for m in state["messages"]] == ["q1", "a1", "q2 edited", "edited answer"]
    assert state["messages"][2]["siblings"] == [q2, edited["id"]]


async def test_editing_the_first_message_starts_a_new_root(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    conversation_id, q1, *_ = await start_conversation(ws, fake_upstream, text_stream("fresh"))
    await ws.send_json_to(
        {
            "type": "chat.edit",
            "conversation": conversation_id,
            "message": q1,
            "content": "q1 again",
            "client_id": "e2",
        }
    )
    await receive_until(ws, "message.completed")
    assert fake_upstream.completions()[-1].body["messages"] == [
        {"role": "user", "content": "q1 again"}
    ]
    await wait_idle(conversation_id)
    state = await state_of(ws, conversation_id)
    assert [m["content"] for m in state["messages"]] == ["q1 again", "fresh"]
    assert len(state["messages"][0]["siblings"]) == 2


async def test_switch_shows_the_chosen_branch_and_the_next_turn_continues_it(
    connect, user, fake_upstream
):
    ws = await open_socket(connect, user)
    conversation_id, _q1, _a1, q2, _a2 = await start_conversation(
        ws, fake_upstream, text_stream("edited answer"), text_stream("continued")
    )
    await ws.send_json_to(
        {
            "type": "chat.edit",
            "conversation": conversation_id,
            "message": q2,
            "content": "q2 edited",
            "client_id": "e1",
        }
    )
    await receive_until(ws, "message.completed")
    await wait_idle(conversation_id)
    tab2 = await open_socket(connect, user)
    await state_of(tab2, conversation_id)

    await ws.send_json_to({"type": "chat.switch", "conversation": conversation_id, "message": q2})
    state = (await receive_until(ws, "conversation.state"))[-1]
    assert [m["content"] for m in state["messages"]] == ["q1", "a1", "q2", "a2"]
    assert state["messages"][2]["siblings"][0] == q2
    other = (await receive_until(tab2, "conversation.state"))[-1]  # Every tab follows.
    assert other["messages"] == state["messages"]

    await full_turn(ws, content="q3", client_id="c3", conversation=conversation_id)
    assert fake_upstream.completions()[-1].body["messages"] == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ]
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    export = await db(services_export)(conversation)
    assert [m["content"] for m in export["messages"]] == ["q1", "a1", "q2", "a2", "q3", "continued"]


def services_export(conversation):
    from conversations.portability.selectors import conversation_export

    return conversation_export(conversation=conversation)


async def test_switch_while_streaming_is_busy(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    conversation_id, _q1, _a1, _q2, a2 = await start_conversation(
        ws, fake_upstream, text_stream(*["x"] * 20, delay=0.05)
    )
    await ws.send_json_to(
        {"type": "chat.regenerate", "conversation": conversation_id, "message": a2}
    )
    await receive_until(ws, "message.delta")
    await ws.send_json_to({"type": "chat.switch", "conversation": conversation_id, "message": a2})
    frames = await receive_until(ws, "error")
    assert frames[-1]["code"] == "busy"
    await receive_until(ws, "message.completed")


async def test_history_comes_in_pages(connect, user, fake_upstream, settings):
    settings.CHAT_PAGE_SIZE = 3
    conversation = await db(services.conversation_create)(
        owner=user, persona=None, model="m", title="Long"
    )
    parent = None
    ids = []
    for i in range(8):
        parent = await db(factories.message_append)(
            conversation=conversation,
            role="user" if i % 2 == 0 else "assistant",
            content=f"m{i}",
            parent=parent,
        )
        ids.append(parent.pk)
    ws = await open_socket(connect, user)
    state = await state_of(ws, conversation.pk)
    assert [m["content"] for m in state["messages"]] == ["m5", "m6", "m7"] and state["has_more"]
    pages = []
    before = state["messages"][0]["id"]
    while True:
        await ws.send_json_to(
            {"type": "conversation.history", "conversation": conversation.pk, "before": before}
        )
        page = await ws.receive_json_from()
        assert page["type"] == "conversation.history" and page["before"] == before
        pages.append([m["content"] for m in page["messages"]])
        if not page["has_more"]:
            break
        before = page["messages"][0]["id"]
    assert pages == [["m2", "m3", "m4"], ["m0", "m1"]]


async def test_rename_pin_archive_delete_live_in_every_tab(
    connect, user, other_user, fake_upstream
):
    ws = await open_socket(connect, user)
    fake_upstream.script(text_stream("hello"))
    frames, _ = await full_turn(ws, content="Plan a garden")
    conversation_id = frames[0]["conversation"]
    tab2 = await open_socket(connect, user)

    await ws.send_json_to(
        {"type": "conversation.rename", "conversation": conversation_id, "title": "Garden"}
    )
    await ws.send_json_to(
        {"type": "conversation.pin", "conversation": conversation_id, "pinned": True}
    )
    await ws.send_json_to(
        {"type": "conversation.archive", "conversation": conversation_id, "archived": True}
    )
    updates = [await tab2.receive_json_from() for _ in range(3)]
    assert [u["type"] for u in updates] == ["conversation.updated"] * 3
    assert updates[-1]["title"] == "Garden"
    assert updates[-1]["pinned"] is True and updates[-1]["archived"] is True
    saved = await db(Conversation.objects.get)(pk=conversation_id)
    assert (saved.title, saved.title_source, saved.pinned, saved.archived) == (
        "Garden",
        "user",
        True,
        True,
    )

    intruder = await open_socket(connect, other_user)
    for frame in (
        {"type": "conversation.rename", "conversation": conversation_id, "title": "Mine now"},
        {"type": "conversation.pin", "conversation": conversation_id, "pinned": False},
        {"type": "conversation.delete", "conversation": conversation_id},
    ):
        await intruder.send_json_to(frame)
        assert (await intruder.receive_json_from())["code"] == "not_found"

    await ws.send_json_to({"type": "conversation.delete", "conversation": conversation_id})
    gone = await tab2.receive_json_from()
    assert gone == {"type": "conversation.deleted", "conversation": conversation_id}
    assert not await db(Conversation.objects.filter(pk=conversation_id).exists)()
    assert await db(Message.objects.filter(conversation_id=conversation_id).count)() == 0


async def test_delete_while_streaming_stops_the_reply_first(connect, user, fake_upstream):
    fake_upstream.script(text_stream(*["x"] * 40, delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        {"type": "chat.send", "client_id": "c1", "conversation": None, "content": "go"}
    )
    frames = await receive_until(ws, "message.delta")
    conversation_id = frames[0]["conversation"]
    await ws.send_json_to({"type": "conversation.delete", "conversation": conversation_id})
    await receive_until(ws, "conversation.deleted")
    assert await db(Message.objects.count)() == 0


async def test_automatic_title_after_the_first_reply(connect, user, fake_upstream, settings):
    settings.CHAT_AUTO_TITLES = True
    fake_upstream.script(
        text_stream("Try tomatoes and basil."), text_stream('"Summer Garden Ideas."')
    )
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="What should I plant this summer?")
    conversation_id = frames[0]["conversation"]
    update = await ws.receive_json_from(timeout=5)
    assert update == update | {
        "type": "conversation.updated",
        "conversation": conversation_id,
        "title": "Summer Garden Ideas",
    }
    title_request = fake_upstream.completions()[1].body
    assert title_request["messages"][0] == {"role": "system", "content": TITLE_PROMPT}
    assert "What should I plant" in title_request["messages"][1]["content"]
    assert title_request["max_tokens"] == 24 and "tools" not in title_request
    saved = await db(Conversation.objects.get)(pk=conversation_id)
    assert saved.title_source == "generated"
    assert reply["timing"]["total_ms"] >= reply["timing"]["first_token_ms"] >= 0


async def test_automatic_title_of_a_conversation_with_a_persona(
    connect, user, fake_upstream, settings
):
    """The frame names the persona's model: reading the persona in the title task must not
    touch the database from the event loop."""
    settings.CHAT_AUTO_TITLES = True
    persona = await db(Persona.objects.create)(name="Gardener", model="test-model")
    fake_upstream.script(text_stream("Tomatoes."), text_stream("Summer Planting"))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="What should I plant?", persona=persona.pk)
    conversation_id = frames[0]["conversation"]
    update = await ws.receive_json_from(timeout=5)
    assert update == update | {
        "type": "conversation.updated",
        "conversation": conversation_id,
        "title": "Summer Planting",
        "persona": persona.pk,
        "model": "test-model",
        "model_chosen": False,
    }


async def test_the_users_rename_wins_over_a_late_automatic_title(
    connect, user, fake_upstream, settings
):
    settings.CHAT_AUTO_TITLES = True
    fake_upstream.script(text_stream("Answer."), text_stream("Generated Title", delay=1.0))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Question")
    conversation_id = frames[0]["conversation"]
    await ws.send_json_to(
        {"type": "conversation.rename", "conversation": conversation_id, "title": "Mine"}
    )
    await receive_until(ws, "conversation.updated", title="Mine")
    # The rename landed while the title request was still running: wait for that task.
    assert titles.TITLE_TASKS, "the title task had already finished: nothing was tested"
    await asyncio.wait_for(asyncio.gather(*titles.TITLE_TASKS), 5)
    assert len(fake_upstream.completions()) == 2
    assert (await db(Conversation.objects.get)(pk=conversation_id)).title == "Mine"
    assert await ws.receive_nothing(0.2)
