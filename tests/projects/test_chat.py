"""Projects over the websocket: a new chat started in one takes its defaults, its
instructions go upstream in the system message and into the reply's record, and moving
conversations in and out; another user's project is `not_found` everywhere."""

import pytest
from channels.db import database_sync_to_async as db

from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.projects.models import Project
from tests.fake_upstream import text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

INSTRUCTIONS = "Answer as a gardener would, in metric units."


def _project(owner, **fields) -> Project:
    persona = Persona.objects.create(owner=owner, name="Tutor", system_prompt="Teach kindly.")
    return Project.objects.create(
        owner=owner,
        name="Garden",
        instructions=INSTRUCTIONS,
        default_persona=persona,
        default_tools=["calculator"],
        **fields,
    )


async def test_a_new_chat_in_a_project_uses_its_defaults_and_sends_its_instructions(
    connect, user, fake_upstream
):
    project = await db(_project)(user)
    fake_upstream.script(text_stream("Plant in spring."))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="When to plant?", project=project.pk)
    conversation_id = frames[0]["conversation"]
    await wait_idle(conversation_id)
    created = by_type(frames, "conversation.created")[0]
    assert created["project"] == project.pk and created["persona"] == project.default_persona_id

    body = fake_upstream.completions()[-1].body
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"] == f"Teach kindly.\n\n## Project: Garden\n\n{INSTRUCTIONS}"
    assert [tool["function"]["name"] for tool in body["tools"]] == ["calculator"]

    record = reply["request"]
    assert record["project"] == {"id": project.pk, "name": "Garden", "instructions": INSTRUCTIONS}
    assert record["system_prompt"] == system["content"]
    saved = await db(Message.objects.get)(pk=reply["id"])
    assert saved.request["project"]["instructions"] == INSTRUCTIONS
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.project_id == project.pk


async def test_the_instructions_count_in_the_context_budget(connect, user, fake_upstream):
    project = await db(Project.objects.create)(owner=user, name="Long", instructions="word " * 400)
    fake_upstream.script(text_stream("a"), text_stream("b"))
    ws = await open_socket(connect, user)
    frames, outside = await full_turn(ws, content="Same question", client_id="c1")
    await wait_idle(frames[0]["conversation"])
    frames, inside = await full_turn(
        ws, content="Same question", client_id="c2", project=project.pk
    )
    await wait_idle(frames[0]["conversation"])
    grown = (
        inside["request"]["estimated_prompt_tokens"] - outside["request"]["estimated_prompt_tokens"]
    )
    assert grown >= 400


async def test_what_the_user_picks_wins_over_the_projects_defaults(connect, user, fake_upstream):
    project = await db(_project)(user)
    fake_upstream.script(text_stream("ok"))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Hi", project=project.pk, persona=None, tools=[])
    await wait_idle(frames[0]["conversation"])
    assert by_type(frames, "conversation.created")[0]["persona"] is None
    body = fake_upstream.completions()[-1].body
    assert "tools" not in body
    assert body["messages"][0]["content"] == f"## Project: Garden\n\n{INSTRUCTIONS}"


async def test_another_users_project_cannot_start_a_chat(connect, user, other_user, fake_upstream):
    theirs = await db(_project)(other_user)
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        {"type": "chat.send", "client_id": "x1", "conversation": None, "content": "Hi",
         "project": theirs.pk}
    )  # fmt: skip
    error = (await receive_until(ws, "error"))[-1]
    assert error["code"] == "not_found" and error["message"] == "That project does not exist."
    assert not await db(Conversation.objects.filter(owner=user).exists)()
    assert fake_upstream.completions() == []


async def test_move_in_and_out_live_and_never_into_another_users_project(connect, user, other_user):
    mine = await db(Project.objects.create)(owner=user, name="Mine")
    theirs = await db(Project.objects.create)(owner=other_user, name="Theirs")
    conversation = await db(Conversation.objects.create)(owner=user, title="Loose")
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        {"type": "conversation.move", "conversation": conversation.pk, "project": mine.pk}
    )
    updated = (await receive_until(ws, "conversation.updated"))[-1]
    assert updated["project"] == mine.pk
    await ws.send_json_to(
        {"type": "conversation.move", "conversation": conversation.pk, "project": theirs.pk}
    )
    error = (await receive_until(ws, "error"))[-1]
    assert error["code"] == "not_found" and "project" in error["message"]
    assert (await db(Conversation.objects.get)(pk=conversation.pk)).project_id == mine.pk
    await ws.send_json_to(
        {"type": "conversation.move", "conversation": conversation.pk, "project": None}
    )
    assert (await receive_until(ws, "conversation.updated"))[-1]["project"] is None

    intruder = await open_socket(connect, other_user)
    await intruder.send_json_to(
        {"type": "conversation.move", "conversation": conversation.pk, "project": theirs.pk}
    )
    assert (await receive_until(intruder, "error"))[-1]["code"] == "not_found"
    assert (await db(Conversation.objects.get)(pk=conversation.pk)).project_id is None
