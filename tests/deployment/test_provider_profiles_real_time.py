"""Every provider profile once in real time, against a server with the production lease,
sweep and timeouts (tests/deployment/test_provider_profiles.py runs each scaled down, on both
databases). The turns run at once, so the whole takes about as long as the longest: a
minute.
"""

import asyncio

import pytest

from tests import fake_upstream as fake
from tests.deployment.servers import database_env, interrupted, new_users, reply_of, turn
from tests.live_server import start_server

pytestmark = [pytest.mark.real_time, pytest.mark.django_db(transaction=True)]

# The production defaults (chatsite/settings.py), stated here so that a change shows.
LEASE, SWEEP, READ_TIMEOUT, MAX_RETRY_AFTER = 15, 10, 60, 30


@pytest.fixture
def upstream():
    server = fake.FakeUpstream().start()
    yield server
    server.stop()


def waits(frames: list[dict], state: str) -> list[dict]:
    return [f for f in frames if f["type"] == "message.waiting" and f["state"] == state]


async def test_every_profile_in_real_time(upstream, tmp_path):
    env = database_env(tmp_path) | {
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-real-time",
        "LLM_DEFAULT_MODEL": "test-model",
        "CHAT_TURN_LEASE_SECONDS": str(LEASE),
        "CHAT_TURN_SWEEP_SECONDS": str(SWEEP),
        "LLM_READ_TIMEOUT": str(READ_TIMEOUT),
        "LLM_MAX_RETRY_AFTER": str(MAX_RETRY_AFTER),
        "CHAT_AUTO_TITLES": "0",
    }
    upstream.route("[late]", fake.late_first_token(25, "At", " last"))
    upstream.route("[long]", fake.long_reply(60, pieces=120))
    upstream.route("[silent]", fake.silent())
    upstream.route("[busy]", fake.rate_limited(20), fake.rate_limited(60))
    upstream.route("[errors]", *fake.server_errors(2), fake.text_stream("Back"))
    upstream.route("[bursty]", fake.bursty("Ünïcödé 😀 " * 20))
    server = start_server(env, tmp_path / "server.log")
    try:
        cookies = new_users(env, 6)
        names = ["late", "long", "silent", "busy", "errors", "bursty"]
        results = await asyncio.gather(
            *(
                turn(server, cookie, f"[{name}] go", timeout=READ_TIMEOUT + 30)
                for name, cookie in zip(names, cookies, strict=True)
            )
        )
        seen = dict(zip(names, results, strict=True))
        log = server.log()
    finally:
        server.stop()
    for frames in seen.values():
        assert not interrupted(frames)
    assert "Lost the lease" not in log and "abandoned by its server process" not in log

    assert reply_of(seen["late"])["status"] == "complete"
    assert reply_of(seen["late"])["content"] == "At last"
    assert waits(seen["late"], "waiting")

    assert reply_of(seen["long"])["status"] == "complete"
    assert reply_of(seen["long"])["content"] == "".join(f"w{i} " for i in range(120))

    assert reply_of(seen["silent"])["status"] == "error"
    assert reply_of(seen["silent"])["error"] == (
        f"The model provider sent nothing for {READ_TIMEOUT} s, so the reply was stopped."
    )

    assert [f["seconds"] for f in waits(seen["busy"], "retrying")] == [20]
    assert reply_of(seen["busy"])["error"] == (
        f"The model provider is busy and asked to wait 60 s, longer than this server waits "
        f"({MAX_RETRY_AFTER} s). Try again later."
    )

    assert reply_of(seen["errors"])["content"] == "Back"
    assert len(waits(seen["errors"], "retrying")) == 2

    assert reply_of(seen["bursty"])["content"] == "Ünïcödé 😀 " * 20
