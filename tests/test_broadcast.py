"""The hub: frames reach this process's own sockets whatever happens on the way to others."""

import pytest
from channels.layers import get_channel_layer

from conversations.chat import runtime

pytestmark = pytest.mark.django_db(transaction=True)


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict] = []

    async def deliver(self, frame: dict) -> None:
        self.frames.append(frame)


def other_processes_watch(monkeypatch, hub, group_send) -> None:
    """As with REDIS_URL set and another process watching every conversation."""
    monkeypatch.setattr(get_channel_layer(), "group_send", group_send)
    monkeypatch.setattr(hub, "_redis", object())

    async def watched_elsewhere(conversation_id):
        return True

    monkeypatch.setattr(hub, "_watched_elsewhere", watched_elsewhere)


async def test_local_sockets_get_frames_when_other_processes_cannot_be_reached(monkeypatch):
    hub = runtime.current().hub
    socket = Socket()
    await hub.join("user.7", socket)
    await hub.join("conversation.7", socket)
    sent = []

    async def unreachable(group, message):  # Redis away, or out of connections.
        sent.append(group)
        raise ConnectionError("Too many connections")

    other_processes_watch(monkeypatch, hub, unreachable)
    await hub.publish_to_user(7, {"type": "conversation.created"})
    await hub.publish(7, {"type": "message.created"})
    await hub.settle()
    assert socket.frames == [{"type": "conversation.created"}, {"type": "message.created"}]
    assert sent == ["user.7", "conversation.7"]  # Both were tried, and neither raised.
    monkeypatch.undo()
    await runtime.shutdown()


async def test_local_sockets_never_wait_on_redis_and_others_get_frames_in_order(monkeypatch):
    import asyncio

    from conversations.chat import broadcast

    hub = runtime.current().hub
    socket = Socket()
    await hub.join("conversation.8", socket)
    redis_free = asyncio.Event()
    sent = []

    async def slow(group, message):  # Redis busy: every send waits until it is free.
        await redis_free.wait()
        sent.append(message["frame"]["n"])

    other_processes_watch(monkeypatch, hub, slow)
    monkeypatch.setattr(broadcast, "REMOTE_QUEUE", 3)
    for n in range(6):
        await asyncio.wait_for(hub.publish(8, {"type": "message.delta", "n": n}), 1)
    assert [f["n"] for f in socket.frames] == [0, 1, 2, 3, 4, 5]  # All here, at once.
    redis_free.set()
    await hub.settle()
    # In order; the first was on its way, and of the rest only the newest three waited.
    assert sent == [0, 3, 4, 5]
    monkeypatch.undo()
    await runtime.shutdown()
