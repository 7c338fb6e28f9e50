"""Faults of a real deployment: a service manager's stop, a worker that dies, a database
lock longer than a lease. Real `manage.py serve` and server processes throughout."""

import asyncio
import os
import re
import signal
import sqlite3
import threading
import time

import dj_database_url
import pytest
from django.conf import settings

from tests import fake_upstream as fake
from tests.deployment.servers import (
    Serve,
    database_env,
    interrupted,
    message_row,
    new_users,
    on_postgresql,
    query,
    reply_of,
    send,
    until_reply_ends,
)
from tests.live_server import ROOT, Socket, start_server

pytestmark = pytest.mark.django_db(transaction=True)  # The servers' rows go afterwards.

LEASE = 2.0
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="several processes need Redis (REDIS_URL)"
)


@pytest.fixture
def upstream():
    server = fake.FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def env(upstream, tmp_path):
    return database_env(tmp_path) | {
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-faults",
        "LLM_DEFAULT_MODEL": "test-model",
        "CHAT_TURN_LEASE_SECONDS": str(LEASE),
        "CHAT_TURN_SWEEP_SECONDS": "0.5",
        "CHAT_DRAIN_SECONDS": "20",
        "CHAT_AUTO_TITLES": "0",
    }


class _ServeSocket(Socket):
    @classmethod
    async def open(cls, serve: Serve, cookie: str) -> "Socket":
        import websockets

        connection = await websockets.connect(
            serve.ws_url,
            additional_headers={"Cookie": cookie, "Origin": serve.url},
            max_size=None,
        )
        return cls(connection)


async def start_reply(socket: Socket) -> tuple[int, int]:
    """Send a message; (conversation, reply) once the reply streams."""
    await send(socket, "Write slowly")
    frames = await socket.until("message.delta", timeout=20)
    reply = next(
        f["message"]["id"]
        for f in frames
        if f["type"] == "message.created" and f["message"]["role"] == "assistant"
    )
    return frames[-1]["conversation"], reply


# ---- stopping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("processes", "target"),
    [
        (1, "group"),
        (1, "serve"),
        pytest.param(2, "group", marks=needs_redis),
        pytest.param(2, "serve", marks=needs_redis),
    ],
)
async def test_sigterm_to_the_group_drains_as_sigterm_to_serve_does(
    env, upstream, tmp_path, processes, target
):
    """A service manager's stop sends SIGTERM to the whole process group (systemd's default
    KillMode), or to serve alone (KillMode=mixed). Either way the running reply finishes:
    serve's copy of the signal is a drain request, never "asked twice: stop now"."""
    if processes > 1 and not on_postgresql():
        pytest.skip("several processes share a PostgreSQL database here")
    (cookie,) = new_users(env, 1)
    upstream.script(fake.long_reply(3.0, pieces=30))
    serve = Serve(env, tmp_path / "serve.log", processes=processes)
    try:
        serve.wait_healthy()
        socket = await _ServeSocket.open(serve, cookie)
        _, reply = await start_reply(socket)
        if target == "group":
            os.killpg(serve.process.pid, signal.SIGTERM)
        else:
            serve.process.send_signal(signal.SIGTERM)
        frames = await until_reply_ends(socket, timeout=30)
        assert reply_of(frames)["status"] == "complete"
        assert reply_of(frames)["content"] == "".join(f"w{i} " for i in range(30))
        assert serve.process.wait(40) == 0, serve.log()
        assert message_row(env, reply)[0] == "complete"
        assert "stopping now" not in serve.log()
    finally:
        serve.stop()


def test_the_systemd_unit_stops_serve_alone_and_waits_for_the_drain():
    """docs/deploy.md's unit: SIGTERM to serve only (it drains its processes, then stops the
    local model they may use), and a stop timeout longer than the drain."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    unit = re.search(r"```ini\n(\[Service\].*?)```", text, re.S).group(1)
    lines = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line)
    assert lines["KillMode"] == "mixed"
    assert lines["KillSignal"] == "SIGTERM"
    assert float(lines["TimeoutStopSec"]) > settings.CHAT_DRAIN_SECONDS + 10
    assert "manage.py serve" in lines["ExecStart"]


# ---- a worker that dies ------------------------------------------------------------------


@needs_redis
async def test_a_killed_worker_is_started_again_while_the_other_serves(env, upstream, tmp_path):
    if not on_postgresql():
        pytest.skip("several processes share a PostgreSQL database here")
    (cookie,) = new_users(env, 1)
    upstream.script(fake.long_reply(60.0, pieces=600))
    serve = Serve(env, tmp_path / "serve.log", processes=2)
    try:
        serve.wait_healthy()
        first = serve.workers()
        assert len(first) == 2
        socket = await _ServeSocket.open(serve, cookie)
        conversation, reply = await start_reply(socket)
        # The reply runs in the process named in its conversation's lease: kill that one.
        (owner,) = query(
            env, "SELECT turn_owner FROM conversations_conversation WHERE id = %s", conversation
        )[0]
        victim = int(owner.split(":")[1])
        assert victim in first
        health: list[tuple[float, bool]] = []
        stop = threading.Event()

        def watch_health() -> None:
            while not stop.is_set():
                health.append((time.monotonic(), serve.healthy()))
                time.sleep(0.1)

        watcher = threading.Thread(target=watch_health)
        watcher.start()
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        # The other process keeps serving, the reply it cannot finish is interrupted (by the
        # survivor's sweep, once the lease expires and nobody answers for it), and serve
        # starts a new process in the dead one's place.
        deadline = time.monotonic() + 30
        while message_row(env, reply)[0] != "interrupted":
            assert time.monotonic() < deadline, serve.log()
            await asyncio.sleep(0.2)
        while len(serve.workers()) < 2 or victim in serve.workers():
            assert time.monotonic() < deadline, serve.log()
            await asyncio.sleep(0.2)
        stop.set()
        watcher.join()
        # A connection the dying process had just taken from the shared socket is lost with
        # it; every check after that moment is answered by the one still serving.
        after = [ok for at, ok in health if at > killed + 0.5]
        assert len(after) > 10 and all(after), f"{after.count(False)} of {len(after)} failed"
        assert "app process" in serve.log() and "starting it again in" in serve.log()
        # Both processes take turns: a new conversation completes wherever it lands.
        upstream.script(*[fake.text_stream("fine")] * 4)
        for _ in range(4):
            fresh = await _ServeSocket.open(serve, cookie)
            await send(fresh, "Still there?")
            assert reply_of(await until_reply_ends(fresh, timeout=20))["content"] == "fine"
            await fresh.close()
    finally:
        serve.stop()


# ---- a database lock longer than a lease -------------------------------------------------


def hold_lock(env: dict[str, str], conversation: int, seconds: float, held: threading.Event):
    """Lock the conversation's row (PostgreSQL) or the whole database (SQLite) for
    `seconds`, as a long migration, a backup or a stuck transaction would."""
    url = dj_database_url.parse(env["DATABASE_URL"])
    if "sqlite" in url["ENGINE"]:
        connection = sqlite3.connect(url["NAME"], timeout=30, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        held.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
        connection.close()
        return
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as connection:
        connection.execute(
            "SELECT id FROM conversations_conversation WHERE id = %s FOR UPDATE", (conversation,)
        )
        held.set()
        time.sleep(seconds)
        connection.rollback()


@pytest.mark.parametrize("processes", [1, pytest.param(2, marks=needs_redis)])
async def test_a_database_lock_longer_than_the_lease_never_mislabels_a_live_reply(
    env, upstream, tmp_path, processes
):
    """The reply's process cannot renew its lease while the database is locked; when it
    expires, no sweep (its own, or another process's) may interrupt the live reply."""
    if processes > 1 and not on_postgresql():
        pytest.skip("several processes share a PostgreSQL database here")
    (cookie,) = new_users(env, 1)
    upstream.script(fake.long_reply(4 * LEASE + 4, pieces=60))
    servers = [start_server(env, tmp_path / f"server{i}.log") for i in range(processes)]
    try:
        socket = await Socket.open(servers[0], cookie)
        conversation, reply = await start_reply(socket)
        held = threading.Event()
        locker = threading.Thread(target=hold_lock, args=(env, conversation, 3 * LEASE, held))
        locker.start()
        held.wait(10)
        frames = await until_reply_ends(socket, timeout=60)
        locker.join()
        await socket.close()
        assert not interrupted(frames)
        assert reply_of(frames)["status"] == "complete"
        assert reply_of(frames)["content"] == "".join(f"w{i} " for i in range(60))
        assert message_row(env, reply)[0] == "complete"
        for server in servers:
            assert "Lost the lease" not in server.log()
            assert "abandoned by its server process" not in server.log()
    finally:
        for server in servers:
            server.stop()
