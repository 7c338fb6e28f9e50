"""The hub: frames reach this process's own sockets whatever happens on the way to others."""

import pytest
from channels.layers import get_channel_layer

from conversations.chat import runtime
from tests.helpers import eventually

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


@pytest.mark.parametrize("first_frame", [True, False])
async def test_a_starting_turns_frames_for_other_processes_wait_for_its_first_frame(
    monkeypatch, first_frame
):
    """Held (Hub.hold_remote) until the turn's first frame is out, or REMOTE_HOLD has
    passed: never longer, never lost, never out of order, and never from local sockets."""
    import asyncio

    from conversations.chat import broadcast

    hub = runtime.current().hub
    socket = Socket()
    await hub.join("user.9", socket)
    await hub.join("conversation.9", socket)
    sent = []

    async def record(group, message):
        sent.append((group, message["frame"]["type"]))

    other_processes_watch(monkeypatch, hub, record)
    monkeypatch.setattr(broadcast, "REMOTE_HOLD", 0.3)
    until = asyncio.Event()
    hub.hold_remote(["conversation.9", "user.9"], until)
    await hub.publish_to_user(9, {"type": "conversation.created"})
    await hub.publish(9, {"type": "message.created"})
    await hub.publish(9, {"type": "message.delta"})
    await eventually(lambda: len(socket.frames) == 3, what="the local frames")
    assert [f["type"] for f in socket.frames] == [
        "conversation.created", "message.created", "message.delta"
    ]  # fmt: skip
    for _ in range(20):  # Whatever was ready to run has run: nothing went to Redis.
        await asyncio.sleep(0)
    assert sent == []  # Held.
    started = asyncio.get_running_loop().time()
    if first_frame:
        until.set()
    await hub.settle()
    waited = asyncio.get_running_loop().time() - started
    assert sent == [
        ("user.9", "conversation.created"),
        ("conversation.9", "message.created"),
        ("conversation.9", "message.delta"),
    ]
    assert waited < 0.1 if first_frame else 0.1 < waited < 0.5
    hub.release_remote(["conversation.9", "user.9"], until)
    assert hub._holds == {}
    monkeypatch.undo()
    await runtime.shutdown()
