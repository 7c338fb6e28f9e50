"""The server enforces the model catalog: models staff turned off, and unknown ones, never
reach the provider; a conversation or persona whose model went away asks for another."""

import pytest
from channels.db import database_sync_to_async as db
from django.test import Client

from conversations import services
from conversations.catalog.models import ModelInfo
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.provider import availability, catalog
from tests.fake_upstream import text_stream
from tests.helpers import full_turn, open_socket, receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def error_for(ws, client_id: str | None = None) -> dict:
    match = {"client_id": client_id} if client_id else {}
    return (await receive_until(ws, "error", **match))[-1]


async def test_a_send_naming_a_disabled_model_is_refused(connect, user, fake_upstream):
    fake_upstream.list_models("big-model")
    await db(ModelInfo.objects.create)(model_id="big-model", enabled=False)
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(model="big-model"))
    error = await error_for(ws, "c1")

    assert error["code"] == "bad_request"
    assert error["field"] == "model" and error["model"] == "big-model"
    assert "turned off" in error["message"]
    assert fake_upstream.completions() == []
    assert await db(Conversation.objects.exists)() is False


async def test_a_send_naming_an_unknown_model_is_refused(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(model="made-up/model-9000"))
    error = await error_for(ws, "c1")
    assert error["code"] == "bad_request" and error["field"] == "model"
    assert "no model made-up/model-9000" in error["message"]
    assert fake_upstream.completions() == []


async def test_a_listed_enabled_model_goes_through(connect, user, fake_upstream):
    fake_upstream.list_models("big-model")
    await db(ModelInfo.objects.create)(model_id="big-model", enabled=True)
    fake_upstream.script(text_stream("Hi"))
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, model="big-model")
    assert reply["status"] == "complete" and reply["model"] == "big-model"


async def test_staff_may_allow_any_model_id_but_not_a_disabled_one(
    connect, user, fake_upstream, settings
):
    settings.CHAT_ALLOW_ANY_MODEL = True
    await db(ModelInfo.objects.create)(model_id="off-model", enabled=False)
    fake_upstream.script(text_stream("Free"))
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, model="someone/new-model")
    assert reply["status"] == "complete"
    assert fake_upstream.completions()[0].body["model"] == "someone/new-model"
    await ws.send_json_to(send_frame(client_id="c2", model="off-model"))
    assert (await error_for(ws, "c2"))["code"] == "bad_request"


async def test_an_imported_conversation_with_a_missing_model_asks_for_another(
    connect, user, fake_upstream
):
    conversation = await db(services.conversation_create)(
        owner=user, persona=None, model="retired/model", title="Imported"
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to({"type": "conversation.open", "conversation": conversation.pk})
    state = await ws.receive_json_from()
    assert state["model"] == "retired/model" and state["model_available"] is False

    await ws.send_json_to(send_frame(client_id="next", conversation=conversation.pk))
    error = await error_for(ws, "next")
    assert error["code"] == "model_unavailable"
    assert error["field"] == "model" and error["model"] == "retired/model"
    assert "Pick another model" in error["message"]
    assert await db(Message.objects.filter(conversation=conversation).exists)() is False
    assert fake_upstream.completions() == []

    fake_upstream.script(text_stream("Back"))  # Picking one that works carries on.
    _, reply = await full_turn(
        ws, client_id="picked", conversation=conversation.pk, model="test-model"
    )
    assert reply["status"] == "complete"
    await ws.send_json_to({"type": "conversation.open", "conversation": conversation.pk})
    assert (await receive_until(ws, "conversation.state"))[-1]["model_available"] is True


async def test_regenerating_in_a_conversation_whose_model_was_disabled_asks_for_another(
    connect, user, fake_upstream
):
    fake_upstream.script(text_stream("First"))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws)
    await db(ModelInfo.objects.create)(model_id="test-model", enabled=False)
    await db(catalog.load_rows)()  # What the admin's save does (see the next test).
    await ws.send_json_to(
        {
            "type": "chat.regenerate",
            "conversation": frames[0]["conversation"],
            "message": reply["id"],
        }
    )
    error = await error_for(ws)
    assert error["code"] == "model_unavailable" and error["model"] == "test-model"
    assert len(fake_upstream.completions()) == 1


async def test_continuing_or_choosing_a_disabled_model_is_refused_too(connect, user, fake_upstream):
    fake_upstream.list_models("big-model")
    await db(ModelInfo.objects.create)(model_id="big-model", enabled=False)
    fake_upstream.script(text_stream("First"))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws)
    cid = frames[0]["conversation"]
    await ws.send_json_to(
        {"type": "conversation.settings", "conversation": cid, "model": "big-model"}
    )
    error = await error_for(ws)
    assert error["code"] == "bad_request" and error["field"] == "model"
    assert (await db(Conversation.objects.get)(pk=cid)).model == ""  # Unchanged.
    await db(ModelInfo.objects.filter(model_id="big-model").update)(model_id="test-model")
    await db(catalog.load_rows)()
    await ws.send_json_to({"type": "chat.continue", "conversation": cid, "message": reply["id"]})
    error = await error_for(ws)
    assert error["code"] == "model_unavailable" and error["model"] == "test-model"
    assert len(fake_upstream.completions()) == 1


async def test_a_persona_whose_model_went_away_asks_for_another(connect, user, fake_upstream):
    persona = await db(Persona.objects.create)(name="Old", model="gone/model", owner=user)
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(persona=persona.pk))
    error = await error_for(ws, "c1")
    assert error["code"] == "model_unavailable"
    assert "persona's model, gone/model" in error["message"]
    assert fake_upstream.completions() == []


def test_disabling_a_model_in_the_admin_takes_effect_at_once(admin_user, fake_upstream):
    fake_upstream.list_models("big-model")
    row = ModelInfo.objects.create(model_id="big-model", enabled=True)
    assert availability.policy().usable("big-model")  # Loaded, and kept in memory.
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/conversations/modelinfo/{row.pk}/change/",
        {
            "model_id": "big-model",
            "display_name": "Big",
            "context_window": 32768,
            "supports_tools": "on",
            "available": "on",
        },  # "enabled" left out: unticked.
    )
    assert response.status_code == 302
    assert catalog.cached_rows()["big-model"].enabled is False
    assert not availability.policy().usable("big-model")


def test_the_chat_and_persona_pages_show_a_model_that_went_away(user):
    conversation = services.conversation_create(
        owner=user, persona=None, model="retired/model", title="Imported"
    )
    Persona.objects.create(name="Old one", model="retired/model", owner=user)
    client = Client()
    client.force_login(user)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'data-unavailable="1"' in page and "model (unavailable)" in page
    assert "This conversation's model, retired/model, is no longer available" in page
    personas = client.get("/personas/").content.decode()
    assert "model unavailable" in personas


def test_a_persona_cannot_be_saved_with_a_disabled_model(user):
    ModelInfo.objects.create(model_id="off-model", enabled=False)
    client = Client()
    client.force_login(user)
    response = client.post(
        "/personas/new/",
        {"name": "P", "model": "off-model", "tool_choice": "auto", "system_prompt": "Hi"},
    )
    assert response.status_code == 200
    assert "turned off" in response.content.decode()
    assert not Persona.objects.filter(name="P").exists()


def test_the_default_model_for_new_chats_must_be_usable(user):
    ModelInfo.objects.create(model_id="off-model", enabled=False)
    client = Client()
    client.force_login(user)
    response = client.post("/settings/", {"theme": "system", "default_model": "off-model"})
    assert response.status_code == 400
    assert "turned off" in response.content.decode()
