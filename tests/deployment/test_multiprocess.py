"""Several server processes on one database and one Redis: what a deployment runs.

Real daphne processes, real websockets between them and the test. Runs when REDIS_URL
is set (the suite's PostgreSQL + Redis run); the in-memory channel layer cannot join
processes.
"""

import os

import pytest
from channels.db import database_sync_to_async as db
from django.conf import settings

from conversations.models import Message
from tests.fake_upstream import Reply, chunk, sse, text_stream
from tests.helpers import eventually
from tests.live_server import Socket, session_cookie, start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]

LEASE = 2.0  # Short leases and sweeps, so a dead process is noticed within seconds here.
SWEEP = 0.5


def database_url() -> str:
    db_settings = settings.DATABASES["default"]
    if "postgresql" not in db_settings["ENGINE"]:
        pytest.skip("several processes share a PostgreSQL database here")
    return (
        f"postgres://{db_settings['USER']}:{db_settings['PASSWORD']}@{db_settings['HOST']}:"
        f"{db_settings['PORT']}/{db_settings['NAME']}"
    )


@pytest.fixture
def env(upstream, tmp_path):
    return {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-multi",
        "LLM_DEFAULT_MODEL": "test-model",
        "CHAT_TURN_LEASE_SECONDS": str(LEASE),
        "CHAT_TURN_SWEEP_SECONDS": str(SWEEP),
        "CHAT_AUTO_TITLES": "0",
    }


@pytest.fixture
def servers(env, tmp_path):
    """Two processes, A and B; more can be started with the `start` function returned."""
    started = []

    def start(name: str):
        server = start_server(env, tmp_path / f"{name}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def cookie(django_user_model):
    user = await db(django_user_model.objects.create_user)(username="ann", password="pw-ann-123")
    return await db(session_cookie)(user)


async def saved_text(message_id: int) -> str:
    """A message's text as the database has it now."""
    return await db(lambda: Message.objects.get(pk=message_id).content)()


def slow_reply(pieces: int = 60, delay: float = 0.05) -> Reply:
    return text_stream(*[f"w{i} " for i in range(pieces)], delay=delay)


async def start_reply(socket: Socket) -> tuple[int, int]:
    """Send a first message; return (conversation, reply) once the reply streams."""
    await socket.send(
        {"type": "chat.send", "client_id": "c1", "conversation": None, "content": "Go"}
    )
    frames = await socket.until("message.delta")
    created = [f for f in frames if f["type"] == "message.created"]
    reply = next(f["message"]["id"] for f in created if f["message"]["role"] == "assistant")
    return frames[-1]["conversation"], reply


async def test_a_watcher_on_another_process_gets_every_character_in_order(
    servers, upstream, cookie
):
    a, b = servers("a"), servers("b")
    upstream.script(slow_reply())
    writer = await Socket.open(a, cookie)
    conversation, reply = await start_reply(writer)
    await eventually(lambda: saved_text(reply), what="part of the reply saved")
    watcher = await Socket.open(b, cookie)
    await watcher.send({"type": "conversation.open", "conversation": conversation})
    state = await watcher.until("conversation.state")
    live = next(m for m in state[-1]["messages"] if m["id"] == reply)
    assert live["status"] == "streaming" and live["content"] and live["seq"] >= 1
    text, seq = live["content"], live["seq"]
    while True:
        frame = await watcher.receive()
        if frame["type"] == "message.delta" and frame["message"] == reply:
            assert frame["seq"] == seq + 1, "a delta went missing or came twice"
            seq, text = frame["seq"], text + frame["content"]
        elif frame["type"] == "message.completed" and frame["message"]["id"] == reply:
            final = frame["message"]
            break
    assert final["status"] == "complete"
    assert text == final["content"] == "".join(f"w{i} " for i in range(60))
    await writer.close()
    await watcher.close()


async def test_stop_and_busy_reach_the_process_running_the_turn(servers, upstream, cookie):
    a, b = servers("a"), servers("b")
    upstream.script(slow_reply(pieces=200))
    before = len(upstream.completions())
    writer = await Socket.open(a, cookie)
    conversation, reply = await start_reply(writer)
    other = await Socket.open(b, cookie)
    await other.send(
        {"type": "chat.send", "client_id": "c2", "conversation": conversation, "content": "Too"}
    )
    refused = await other.until("error")
    assert refused[-1]["code"] == "busy"
    await other.send({"type": "chat.stop", "conversation": conversation})
    frames = await writer.until("message.completed", timeout=5)
    assert frames[-1]["message"]["id"] == reply
    assert frames[-1]["message"]["status"] == "stopped"
    assert len(upstream.completions()) == before + 1  # The refused send went nowhere.
    await writer.close()
    await other.close()


async def test_a_killed_process_reply_is_interrupted_by_the_others(servers, upstream, cookie):
    b = servers("b")
    doomed = servers("doomed")
    hanging = sse(chunk({"content": "half"}), done=False)
    hanging.steps.append(("hang",))
    upstream.script(hanging)
    writer = await Socket.open(doomed, cookie)
    conversation, reply = await start_reply(writer)
    watcher = await Socket.open(b, cookie)
    await watcher.send({"type": "conversation.open", "conversation": conversation})
    await watcher.until("conversation.state")

    async def half_saved() -> bool:
        return await saved_text(reply) == "half"

    await eventually(half_saved, what="the text so far saved")
    doomed.kill()
    frames = await watcher.until("message.completed", timeout=LEASE + SWEEP + 10)
    message = frames[-1]["message"]
    assert message["id"] == reply and message["status"] == "interrupted"
    assert message["content"] == "half"
    await watcher.close()


async def test_a_process_that_starts_interrupts_nobody(servers, upstream, cookie):
    a = servers("a")
    upstream.script(slow_reply(pieces=80))
    writer = await Socket.open(a, cookie)
    _, reply = await start_reply(writer)
    servers("newcomer")  # Starts (and sweeps) while the reply streams on A.
    frames = await writer.until("message.completed", timeout=15)
    assert frames[-1]["message"]["id"] == reply
    assert frames[-1]["message"]["status"] == "complete"
    await writer.close()


def test_serve_runs_several_processes_on_one_port(env, tmp_path):
    """`manage.py serve --processes 2`: two app processes share one listening socket."""
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.live_server import ROOT, free_port

    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--processes", "2"],
        cwd=ROOT,
        env={**os.environ, **env, "CHAT_DRAIN_SECONDS": "2"},
        stdout=open(tmp_path / "serve.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        servers = [
            pid
            for pid in os.listdir("/proc")
            if pid.isdigit()
            and b"conversations.web.server" in open(f"/proc/{pid}/cmdline", "rb").read()
            and b"--fd" in open(f"/proc/{pid}/cmdline", "rb").read()
            and f" {serve.pid} " in open(f"/proc/{pid}/stat").read()
        ]
        assert len(servers) == 2
    finally:
        serve.terminate()
        assert serve.wait(20) == 0


async def test_one_reply_of_a_compare_is_stopped_from_another_process(servers, upstream, cookie):
    upstream.list_models("m/a", "m/b")
    upstream.route_model("m/a", slow_reply(pieces=200))
    upstream.route_model("m/b", slow_reply(pieces=40))
    a, b = servers("a"), servers("b")
    writer = await Socket.open(a, cookie)
    compare = [{"model": "m/a"}, {"model": "m/b"}]
    await writer.send(
        {"type": "chat.send", "client_id": "c1", "conversation": None, "content": "Go",
         "compare": compare, "blind": False}
    )  # fmt: skip
    frames = await writer.until("message.delta")
    conversation = frames[-1]["conversation"]
    replies = {
        f["message"]["model"]: f["message"]["id"]
        for f in frames
        if f["type"] == "message.created" and f["message"]["role"] == "assistant"
    }
    other = await Socket.open(b, cookie)
    await other.send({"type": "conversation.open", "conversation": conversation})
    state = (await other.until("conversation.state"))[-1]
    # Streaming in another process: each reply's saved text, not to be lined up with deltas.
    assert [m["id"] for m in state["compare"]["replies"]] == [replies["m/a"], replies["m/b"]]
    assert all(m["seq"] is None for m in state["compare"]["replies"] if m["status"] == "streaming")
    await other.send({"type": "chat.stop", "conversation": conversation, "message": replies["m/a"]})
    ended = {}
    while len(ended) < 2:
        done = (await writer.until("message.completed", timeout=15))[-1]["message"]
        ended[done["id"]] = done
    assert ended[replies["m/a"]]["status"] == "stopped"
    assert ended[replies["m/b"]]["status"] == "complete"
    assert ended[replies["m/b"]]["content"] == "".join(f"w{i} " for i in range(40))
    await writer.close()
    await other.close()
