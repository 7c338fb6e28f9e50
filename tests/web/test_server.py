"""A server process told to stop (SIGTERM) takes no new turns and lets running ones finish."""

import json
import signal
import urllib.error
import urllib.request

import pytest

from tests.fake_upstream import FakeUpstream, text_stream
from tests.live_server import Socket, migrated_sqlite, start_server, user_cookie


@pytest.fixture
def upstream():
    server = FakeUpstream().start()
    yield server
    server.stop()


def health(server) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_sigterm_drains_running_turns_then_stops(upstream, tmp_path):
    env = migrated_sqlite(tmp_path) | {
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-drain",
        "LLM_DEFAULT_MODEL": "test-model",
        "CHAT_DRAIN_SECONDS": "20",
    }
    cookie = user_cookie(env, "dana")
    server = start_server(env, tmp_path / "server.log")
    try:
        assert health(server) == (200, health(server)[1])
        upstream.script(text_stream(*[f"w{i} " for i in range(30)], delay=0.1))
        socket = await Socket.open(server, cookie)
        await socket.send(
            {"type": "chat.send", "client_id": "c1", "conversation": None, "content": "Go"}
        )
        await socket.until("message.delta")
        server.process.send_signal(signal.SIGTERM)
        status, body = health(server)
        assert status == 503 and body["draining"] is True
        await socket.send(
            {"type": "chat.send", "client_id": "c2", "conversation": None, "content": "More"}
        )
        frames = await socket.until("message.completed", timeout=15)
        refused = [f for f in frames if f["type"] == "error"]
        assert refused and refused[0]["code"] == "unavailable" and refused[0]["client_id"] == "c2"
        assert frames[-1]["message"]["status"] == "complete"
        assert frames[-1]["message"]["content"] == "".join(f"w{i} " for i in range(30))
        assert server.process.wait(15) is not None  # It stops once nothing runs.
        # It closed its connections to the provider itself, before the interpreter's exit.
        assert "Unclosed client session" not in server.log()
    finally:
        server.stop()
