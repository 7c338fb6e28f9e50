"""Limits hold across server processes: two real daphne processes on one PostgreSQL
database and one Redis, a user on both. Runs in the suite's PostgreSQL + Redis run."""

import asyncio
import json
import os
import re
import urllib.error
import urllib.request

import httpx2
import pytest
import websockets
from channels.db import database_sync_to_async as db

from conversations.catalog.models import ModelInfo
from conversations.limits.models import DailyTokens
from tests.deployment.test_multiprocess import database_url
from tests.fake_upstream import text_stream
from tests.live_server import Socket, session_cookie, start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.fixture
def pair(upstream, tmp_path):
    """Start two processes, A and B, with these limits."""
    started = []

    def start(**limits: int | str):
        env = {
            "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "LLM_BASE_URL": upstream.url,
            "LLM_API_KEY": "sk-multi",
            "LLM_DEFAULT_MODEL": "test-model",
            "CHAT_AUTO_TITLES": "0",
            **{name: str(value) for name, value in limits.items()},
        }
        for name in ("a", "b"):
            started.append(start_server(env, tmp_path / f"{name}.log"))
        return started[-2], started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def cookie(django_user_model):
    user = await db(django_user_model.objects.create_user)(username="ann", password="pw-ann-123")
    return await db(session_cookie)(user)


def send(client_id: str, **extra) -> dict:
    return {
        "type": "chat.send",
        "client_id": client_id,
        "conversation": None,
        "content": "Hi",
        **extra,
    }


async def test_running_turns_are_counted_across_processes(pair, upstream, cookie):
    a, b = pair(CHAT_MAX_RUNNING_TURNS=1)
    upstream.script(text_stream(*[f"w{i} " for i in range(300)], delay=0.05))
    on_a, on_b = await Socket.open(a, cookie), await Socket.open(b, cookie)
    await on_a.send(send("first"))
    conversation = (await on_a.until("message.delta"))[-1]["conversation"]
    await on_b.send(send("second"))
    error = (await on_b.until("error"))[-1]
    assert error["code"] == "rate_limited" and error["limit"] == "running_turns"
    assert error["client_id"] == "second"
    await on_a.send({"type": "chat.stop", "conversation": conversation})
    await on_a.until("message.completed")
    assert len(upstream.completions()) == 1


async def test_turns_per_minute_are_counted_across_processes(pair, upstream, cookie):
    a, b = pair(CHAT_TURNS_PER_MINUTE=2)
    before = len(upstream.completions())
    upstream.script(text_stream("One"), text_stream("Two"))
    on_a, on_b = await Socket.open(a, cookie), await Socket.open(b, cookie)
    for socket, client_id in ((on_a, "one"), (on_b, "two")):
        await socket.send(send(client_id))
        await socket.until("message.completed")
    await on_a.send(send("three"))
    error = (await on_a.until("error"))[-1]
    assert error["limit"] == "turns_per_minute" and 25 <= error["retry_after"] <= 30
    assert len(upstream.completions()) == before + 2


async def test_daily_tokens_are_counted_across_processes(pair, upstream, cookie):
    a, b = pair(CHAT_DAILY_TOKENS=100)
    upstream.script(text_stream("Long answer", usage=(80, 30)))
    on_a, on_b = await Socket.open(a, cookie), await Socket.open(b, cookie)
    await on_a.send(send("big"))
    await on_a.until("message.completed")
    # A writes its count within about a second (its save loop); B then reads it.
    deadline = asyncio.get_running_loop().time() + 10
    while not await db(DailyTokens.objects.filter(tokens=110).exists)():
        assert asyncio.get_running_loop().time() < deadline, "A never wrote its token count"
        await asyncio.sleep(0.2)
    await on_b.send(send("more"))
    error = (await on_b.until("error"))[-1]
    assert error["code"] == "rate_limited" and error["limit"] == "daily_tokens"


async def test_sockets_are_counted_across_processes(pair, cookie):
    a, b = pair(CHAT_MAX_SOCKETS_PER_USER=2)
    first, _second = await Socket.open(a, cookie), await Socket.open(b, cookie)
    for server in (a, b):
        third = await Socket.open(server, cookie)
        error = await third.receive()
        assert error["code"] == "rate_limited" and error["limit"] == "sockets"
        with pytest.raises(websockets.ConnectionClosed):
            await third.receive()
        assert third.connection.close_code == 4429
    await first.close()
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # A's slot is given back as its socket closes.
        again = await Socket.open(a, cookie)
        await again.send({"type": "conversation.open", "conversation": 999999})
        frame = await again.receive()
        if frame["code"] == "not_found":
            break
        assert asyncio.get_running_loop().time() < deadline, "the closed socket kept its slot"
        await asyncio.sleep(0.1)


async def test_reads_are_counted_across_processes_over_sockets_and_http(pair, cookie):
    a, b = pair(CHAT_READS_PER_MINUTE=3)
    on_a, on_b = await Socket.open(a, cookie), await Socket.open(b, cookie)
    for socket in (on_a, on_b):
        await socket.send({"type": "conversation.open", "conversation": 999999})
        assert (await socket.receive())["code"] == "not_found"  # Counted all the same.

    def search(server) -> tuple[int, dict, str | None]:
        request = urllib.request.Request(
            f"{server.url}/search.json?q=x", headers={"Cookie": cookie}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response), None
        except urllib.error.HTTPError as error:
            return error.code, json.load(error), error.headers.get("Retry-After")

    status, _, _ = await asyncio.to_thread(search, a)
    assert status == 200
    status, body, retry = await asyncio.to_thread(search, b)
    assert status == 429 and body["limit"] == "reads" and int(retry) >= 1
    await on_b.send({"type": "conversation.open", "conversation": 999999})
    assert (await on_b.receive())["limit"] == "reads"


def test_sign_ups_are_counted_per_address_across_processes(pair, django_user_model):
    django_user_model.objects.create_user(username="boss", password="pw-boss-123")
    a, b = pair(CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS=2)

    def sign_up(server, username: str) -> int:
        """A new browser's sign-up on `server`, from this machine's address."""
        with httpx2.Client(base_url=server.url, timeout=30) as browser:
            page = browser.get("/accounts/signup/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            password = "a-Strong-pass-42"
            data = {"username": username, "password1": password, "password2": password}
            response = browser.post(
                "/accounts/signup/",
                data={"csrfmiddlewaretoken": token.group(1), **data},
                headers={"Origin": server.url},
            )
            return response.status_code

    assert [sign_up(a, "one"), sign_up(b, "two"), sign_up(a, "three")] == [302, 302, 429]
    assert sign_up(b, "four") == 429
    assert not django_user_model.objects.filter(username__in=["three", "four"]).exists()


async def test_a_model_disabled_by_staff_is_refused_by_every_process_at_once(
    pair, upstream, cookie
):
    upstream.models["data"].append({"id": "big-model"})
    row = await db(ModelInfo.objects.create)(model_id="big-model", enabled=True)
    a, b = pair()
    upstream.script(text_stream("Yes"), text_stream("Yes"))
    on_a, on_b = await Socket.open(a, cookie), await Socket.open(b, cookie)
    opened = {}
    for socket, client_id in ((on_a, "a1"), (on_b, "b1")):  # Both have the model in memory.
        await socket.send(send(client_id, model="big-model"))
        done = (await socket.until("message.completed"))[-1]
        assert done["message"]["status"] == "complete"
        opened[socket] = done["conversation"]

    row.enabled = False
    await db(row.save)()  # As the admin saves it: every process hears of it.
    for socket in (on_a, on_b):  # Within moments each says the model is gone.
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            await socket.send({"type": "conversation.open", "conversation": opened[socket]})
            state = await socket.until("conversation.state")
            if state[-1]["model_available"] is False:
                break
            assert asyncio.get_running_loop().time() < deadline, "a process kept the old catalog"
            await asyncio.sleep(0.05)
    for socket, client_id in ((on_a, "a2"), (on_b, "b2")):
        await socket.send(send(client_id, model="big-model"))
        error = (await socket.until("error"))[-1]
        assert error["code"] == "bad_request" and error["field"] == "model"
    assert len([r for r in upstream.completions() if r.body["model"] == "big-model"]) == 2


async def test_a_socket_counted_twice_keeps_its_one_slot(settings):
    """redis-py runs a command again after a connection error: a socket's second count
    must not be taken for another socket's (it refused itself, now and then)."""
    from conversations.chat import runtime

    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    slots = runtime.current().sockets
    assert await slots.take(4242, "socket-one")
    assert await slots.take(4242, "socket-one")  # The same socket, counted again.
    assert not await slots.take(4242, "socket-two")  # Another is still refused.
    await slots.give_back(4242, "socket-one")
    assert await slots.take(4242, "socket-two")
    await slots.give_back(4242, "socket-two")
    await runtime.shutdown()
