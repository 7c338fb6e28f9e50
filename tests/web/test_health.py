"""The health check answers 503 when a dependency fails, naming which, and says nothing
but statuses (its answer is for anyone)."""

import socket

import pytest

from conversations.chat import runtime

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_unreachable_channel_layer_is_a_failing_check(async_client, settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{closed_port()}/0"]},
        }
    }
    try:
        response = await async_client.get("/healthz")
    finally:
        await runtime.shutdown()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "channel_layer": "failing",
        "draining": False,
    }
    warning = next(r for r in caplog.records if r.getMessage().startswith("Health check"))
    assert warning.getMessage().startswith("Health check channel_layer failed: ")
    assert "127.0.0.1" not in warning.getMessage()  # The kind of failure, not its text.


async def test_it_answers_anyone_with_statuses_only(async_client):
    anonymous = await async_client.get("/healthz")
    await runtime.shutdown()
    assert anonymous.status_code == 200 and set(anonymous.json()) == {
        "status",
        "database",
        "channel_layer",
        "draining",
    }
    assert "Set-Cookie" not in anonymous.headers
