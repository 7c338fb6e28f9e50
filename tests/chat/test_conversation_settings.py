"""A conversation's persona, model and parameters, over the websocket: whose model a reply
uses, the user's own choices over the persona's, and what the request record says."""

import pytest
from channels.db import database_sync_to_async as db

from conversations.models import Conversation
from conversations.personas.models import Persona
from tests import factories
from tests.fake_upstream import text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

DEEPSEEK = "deepseek-ai/DeepSeek-V3"
LLAMA = "meta-llama/Llama-3.3-70B-Instruct"
QWEN = "Qwen/Qwen2.5-72B-Instruct"


@pytest.fixture(autouse=True)
def provider_lists_them(fake_upstream):
    """The provider offers these models (the server refuses models it does not list)."""
    fake_upstream.list_models(DEEPSEEK, LLAMA, QWEN)


async def turn(ws, fake_upstream, conversation=None, client_id="c1", **frame):
    fake_upstream.script(text_stream("ok"))
    frames, reply = await full_turn(ws, conversation=conversation, client_id=client_id, **frame)
    await wait_idle(frames[0]["conversation"])
    return frames, reply, fake_upstream.completions()[-1].body


async def test_a_personas_model_is_sent_until_the_user_chooses_another(
    connect, user, fake_upstream
):
    coder = await db(Persona.objects.create)(name="Coder", model=DEEPSEEK)
    writer = await db(Persona.objects.create)(name="Writer", model=QWEN)
    ws = await open_socket(connect, user)

    # The persona names DeepSeek and the user chose no model: DeepSeek it is.
    frames, reply, sent = await turn(ws, fake_upstream, persona=coder.pk)
    cid = frames[0]["conversation"]
    created = by_type(frames, "conversation.created")[0]
    assert created["model"] == DEEPSEEK and created["model_chosen"] is False
    assert sent["model"] == DEEPSEEK and reply["model"] == DEEPSEEK
    assert reply["request"]["model"] == DEEPSEEK
    assert reply["request"]["model_source"] == "persona"
    saved = await db(Conversation.objects.get)(pk=cid)
    assert saved.model == ""  # Follows the persona: a later edit of its model applies.

    # The user picks Llama: it overrides the persona's for this conversation, and says so.
    frames, reply, sent = await turn(ws, fake_upstream, cid, "c2", persona=coder.pk, model=LLAMA)
    updated = by_type(frames, "conversation.updated")[0]
    assert updated["model"] == LLAMA and updated["model_chosen"] is True
    assert sent["model"] == LLAMA and reply["request"]["model_source"] == "conversation"
    _, reply, sent = await turn(ws, fake_upstream, cid, "c3")
    assert sent["model"] == LLAMA  # The choice stays.

    # Choosing another persona chooses its model.
    _, reply, sent = await turn(ws, fake_upstream, cid, "c4", persona=writer.pk)
    assert sent["model"] == QWEN and reply["request"]["model_source"] == "persona"

    # A persona edited later brings its new model to the conversations that follow it.
    await db(Persona.objects.filter(pk=writer.pk).update)(model=DEEPSEEK)
    _, _, sent = await turn(ws, fake_upstream, cid, "c5")
    assert sent["model"] == DEEPSEEK

    # No persona at all: the default model.
    _, reply, sent = await turn(ws, fake_upstream, cid, "c6", persona=None)
    assert sent["model"] == "test-model" and reply["request"]["model_source"] == "default"
    assert reply["request"]["persona"] is None


async def test_an_old_client_sending_model_null_changes_nothing(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    frames, _, sent = await turn(ws, fake_upstream, model=QWEN)
    cid = frames[0]["conversation"]
    _, _, sent = await turn(ws, fake_upstream, cid, "c2", model=None)
    assert sent["model"] == QWEN
    _, _, sent = await turn(ws, fake_upstream, cid, "c3", model="")  # "": no choice any more.
    assert sent["model"] == "test-model"


async def test_conversation_settings_apply_over_the_personas_and_are_recorded(
    connect, user, other_user, fake_upstream
):
    tutor = await db(Persona.objects.create)(
        name="Tutor", system_prompt="Teach gently.", temperature=0.3, top_p=0.9, max_tokens=300
    )
    ws = await open_socket(connect, user)
    frames, reply, sent = await turn(ws, fake_upstream, persona=tutor.pk)
    cid = frames[0]["conversation"]
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 300
    assert reply["request"]["conversation_settings"] == []

    other = await open_socket(connect, user)  # Another tab of the same user.
    await ws.send_json_to(
        {
            "type": "conversation.settings",
            "conversation": cid,
            "temperature": 1.2,
            "max_tokens": 50,
            "system_prompt": "Answer in French.",
        }
    )
    for socket in (ws, other):
        updated = (await receive_until(socket, "conversation.updated"))[-1]
        assert updated["params"] == {
            "temperature": 1.2,
            "top_p": None,
            "max_tokens": 50,
            "system_prompt": "Answer in French.",
        }
        assert updated["persona"] == tutor.pk

    _, reply, sent = await turn(ws, fake_upstream, cid, "c2")
    assert sent["temperature"] == 1.2 and sent["top_p"] == 0.9 and sent["max_tokens"] == 50
    assert sent["messages"][0] == {"role": "system", "content": "Answer in French."}
    record = reply["request"]
    assert record["params"] == {"temperature": 1.2, "top_p": 0.9, "max_tokens": 50}
    assert record["system_prompt"] == "Answer in French."
    assert sorted(record["conversation_settings"]) == ["max_tokens", "system_prompt", "temperature"]

    # The state carries them; null (and an empty prompt) go back to the persona's.
    await ws.send_json_to({"type": "conversation.open", "conversation": cid})
    state = (await receive_until(ws, "conversation.state"))[-1]
    assert state["params"]["temperature"] == 1.2
    await ws.send_json_to(
        {
            "type": "conversation.settings",
            "conversation": cid,
            "temperature": None,
            "system_prompt": "",
        }
    )
    await receive_until(ws, "conversation.updated")
    _, reply, sent = await turn(ws, fake_upstream, cid, "c3")
    assert sent["temperature"] == 0.3 and sent["messages"][0]["content"] == "Teach gently."
    assert reply["request"]["conversation_settings"] == ["max_tokens"]

    # A first message may carry them too.
    frames, reply, sent = await turn(ws, fake_upstream, client_id="c4", top_p=0.5, max_tokens=7)
    assert sent["top_p"] == 0.5 and sent["max_tokens"] == 7
    assert by_type(frames, "conversation.created")[0]["params"]["top_p"] == 0.5

    # Someone else's conversation is not found; values out of bounds are refused.
    mallory = await open_socket(connect, other_user)
    await mallory.send_json_to({"type": "conversation.settings", "conversation": cid, "top_p": 1})
    refused = await mallory.receive_json_from()
    assert refused["code"] == "not_found"
    for bad in (
        {"temperature": 3},
        {"temperature": "hot"},
        {"top_p": True},
        {"max_tokens": 0},
        {"max_tokens": 2.5},
        {"system_prompt": 5},
        {"persona": "Tutor"},
    ):
        await ws.send_json_to({"type": "conversation.settings", "conversation": cid, **bad})
        answer = await ws.receive_json_from()
        assert answer["code"] == "bad_request", bad
    await ws.send_json_to({"type": "conversation.settings", "conversation": cid, "persona": 999})
    assert (await ws.receive_json_from())["code"] == "not_found"
    saved = await db(Conversation.objects.get)(pk=cid)
    assert (saved.temperature, saved.top_p, saved.max_tokens) == (None, None, 50)


async def test_a_socket_watches_a_bounded_number_of_conversations(connect, user, monkeypatch):
    from conversations import services
    from conversations.chat import consumer

    monkeypatch.setattr(consumer, "MAX_WATCHED", 3)
    ids = []
    for i in range(5):
        conversation = await db(services.conversation_create)(
            owner=user, persona=None, model="", title=f"c{i}"
        )
        ids.append(conversation.pk)
    ws = await open_socket(connect, user)
    for cid in ids:
        await ws.send_json_to({"type": "conversation.open", "conversation": cid})
        await receive_until(ws, "conversation.state", conversation=cid)
    await ws.send_json_to({"type": "conversation.rename", "conversation": ids[0], "title": "x"})
    await receive_until(ws, "conversation.updated")
    from conversations.chat import broadcast, runtime

    hub = runtime.current().hub
    watched = [cid for cid in ids if hub.sockets.get(broadcast.group_name(cid))]
    assert watched == ids[2:]


@pytest.mark.django_db
def test_the_export_says_what_the_next_turn_would_send(user):
    from conversations import services
    from conversations.portability import export as portability

    persona = Persona.objects.create(name="Coder", model=DEEPSEEK, system_prompt="Write code.")
    conversation = services.conversation_create(owner=user, persona=persona, model="", title="T")
    factories.message_append(conversation=conversation, role="user", content="Hi", parent=None)
    data = portability.export_conversation(conversation)
    assert data["model"] == DEEPSEEK  # The persona's, which the conversation follows.
    assert data["messages"][0] == {"role": "system", "content": "Write code."}
    conversation.system_prompt = "Write Rust."
    conversation.save()
    data = portability.export_conversation(conversation)
    assert data["messages"][0] == {"role": "system", "content": "Write Rust."}
    text = portability.export_markdown(conversation)
    assert f"Model: {DEEPSEEK}" in text and "Write Rust." in text and "Write code." not in text
