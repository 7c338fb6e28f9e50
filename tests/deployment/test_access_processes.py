"""Who may use what holds across server processes: two real daphne processes on one
PostgreSQL database and one Redis; a rule, or a group's members, changed elsewhere (here:
by the test, as the admin would) counts in both at once. Runs in the suite's PostgreSQL
and Redis run."""

import asyncio
import os

import pytest
from channels.db import database_sync_to_async as db
from django.contrib.auth.models import Group

from conversations.access import kinds
from conversations.access import services as access_services
from tests.deployment.test_multiprocess import database_url
from tests.fake_upstream import FakeUpstream, text_stream
from tests.live_server import Socket, session_cookie, start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]

TEAM_MODEL = "acme/team-model"
WITHIN = 5.0  # Seconds each process may take to hear of a change.


@pytest.fixture
def upstream():
    server = FakeUpstream().start()
    server.list_models(TEAM_MODEL)
    yield server
    server.stop()


@pytest.fixture
def pair(upstream, tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-multi",
        "LLM_DEFAULT_MODEL": "test-model",
        "CHAT_AUTO_TITLES": "0",
    }
    servers = [start_server(env, tmp_path / f"{name}.log") for name in ("a", "b")]
    yield servers
    for server in servers:
        server.stop()


async def model_available(socket: Socket, conversation: int) -> bool:
    await socket.send({"type": "conversation.open", "conversation": conversation})
    return (await socket.until("conversation.state"))[-1]["model_available"]


async def until_available(socket: Socket, conversation: int, wanted: bool) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    while await model_available(socket, conversation) is not wanted:
        assert loop.time() < deadline, "a process kept what it knew of the access rules"
        await asyncio.sleep(0.05)


def send(client_id: str) -> dict:
    return {"type": "chat.send", "client_id": client_id, "conversation": None, "content": "Hi"}


async def test_a_rule_and_a_new_member_count_in_every_process(pair, upstream, django_user_model):
    user = await db(django_user_model.objects.create_user)(username="ann", password="pw-ann-12")
    cookie = await db(session_cookie)(user)
    team = await db(Group.objects.create)(name="Team")
    upstream.script(text_stream("Yes"), text_stream("Yes"))
    sockets = [await Socket.open(server, cookie) for server in pair]
    opened = {}
    for index, socket in enumerate(sockets):  # Each has used the model, and read the rules.
        await socket.send({**send(f"first{index}"), "model": TEAM_MODEL})
        done = (await socket.until("message.completed"))[-1]
        assert done["message"]["status"] == "complete"
        opened[index] = done["conversation"]

    await db(access_services.rule_set)(kind=kinds.MODEL, name=TEAM_MODEL, group_ids=[team.pk])
    for index, socket in enumerate(sockets):
        await until_available(socket, opened[index], False)
        await socket.send({**send(f"kept{index}"), "model": TEAM_MODEL})
        error = (await socket.until("error"))[-1]
        assert error["code"] == "bad_request" and error["model"] == TEAM_MODEL

    await db(user.groups.add)(team)  # Joining the group counts everywhere too.
    upstream.script(text_stream("Welcome"), text_stream("Welcome"))
    for index, socket in enumerate(sockets):
        await until_available(socket, opened[index], True)
        await socket.send({**send(f"member{index}"), "model": TEAM_MODEL})
        done = (await socket.until("message.completed"))[-1]
        assert done["message"]["status"] == "complete"
    assert len([r for r in upstream.completions() if r.body["model"] == TEAM_MODEL]) == 4
