"""Helpers for tests that talk to the websocket."""

import asyncio
import json

from channels.testing import WebsocketCommunicator

from conversations.chat import frames, lifecycle


def check_frame(frame: object) -> dict:
    """A frame the server sent, held to the protocol: one of frames.SERVER, every field as
    its model declares it and none it does not (pydantic's error says which is wrong)."""
    frames.SERVER_FRAME.validate_python(frame)
    return frame


class ProtocolCommunicator(WebsocketCommunicator):
    """A websocket client that checks every text frame it receives (check_frame)."""

    async def receive_from(self, timeout: float = 1):
        data = await super().receive_from(timeout)
        if isinstance(data, str):
            check_frame(json.loads(data))
        return data


async def receive_frame(communicator, *, timeout: float = 5.0) -> dict:
    """The next whole frame: a large one's parts (`frame.part`) are joined, as the page does."""
    parts: list | None = None
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] != "frame.part":
            return frame
        if parts is None:
            parts = [None] * frame["count"]
        parts[frame["index"]] = frame["data"]
        if all(part is not None for part in parts):
            return check_frame(json.loads("".join(parts)))


async def receive_until(
    communicator, frame_type: str, *, timeout: float = 5.0, **match
) -> list[dict]:
    """Collect frames up to and including the first of `frame_type` matching `match`."""
    frames = []
    while True:
        frame = await receive_frame(communicator, timeout=timeout)
        frames.append(frame)
        if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
            return frames


def send_frame(content="Hello", client_id="c1", conversation=None, **extra) -> dict:
    return {
        "type": "chat.send",
        "client_id": client_id,
        "conversation": conversation,
        "content": content,
        **extra,
    }


async def open_socket(connect, user):
    ws = await connect(user)
    connected, _ = await ws.connect()
    assert connected
    return ws


async def full_turn(ws, **frame) -> tuple[list[dict], dict]:
    """Send a message and collect frames up to the reply's completion."""
    await ws.send_json_to(send_frame(**frame))
    frames = await receive_until(ws, "message.completed")
    return frames, frames[-1]["message"]


async def wait_idle(conversation_id: int) -> None:
    turn = lifecycle.local(conversation_id)
    if turn and turn.task:
        await asyncio.wait_for(asyncio.gather(turn.task, return_exceptions=True), 5)


def by_type(frames, kind):
    return [f for f in frames if f["type"] == kind]


async def eventually(check, *, timeout: float = 10.0, interval: float = 0.02, what: str = ""):
    """Poll `check` (a function, or a coroutine function) until it returns something true,
    within `timeout` seconds; return that. Waits for work without guessing how long it takes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert loop.time() < deadline, f"not within {timeout:g} s: {what or check}"
        await asyncio.sleep(interval)
