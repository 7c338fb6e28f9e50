"""A websocket client that never reads is dropped by the server, not buffered without end,
and other users' replies keep flowing meanwhile. A real server process, a real socket."""

import asyncio
import base64
import os
import socket
import struct
import subprocess
import sys
import time

import pytest

from tests.fake_upstream import FakeUpstream, text_stream
from tests.live_server import ROOT, Socket, live_server, user_cookie

LIMIT = 256 * 1024
PARAGRAPHS = 2000  # About 2 MB of reply text over 4 s: some 5 MB of frames with their HTML,
SILENT = 12  # to each of this many sockets watching the conversation.

MAKE_CONVERSATION = """
from django.contrib.auth import get_user_model
from conversations import services
owner = get_user_model().objects.get(username="silent")
print(services.conversation_create(owner=owner, persona=None, model="test-model", title="T").pk)
"""


@pytest.fixture
def upstream():
    server = FakeUpstream().start()
    yield server
    server.stop()


def silent_websocket(port: int, cookie: str, frame: bytes) -> socket.socket:
    """A websocket that sends one frame and then never reads: a small receive window and no
    reads, so what the server sends piles up on the server's side."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /ws/chat/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # Only the handshake's answer: nothing after it is read.
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = b'{"type": "chat.send", "client_id": "silent", "conversation": null, "content": "Go"}'
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)
    return sock


def manage_shell(env: dict, code: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.django_db
async def test_a_client_that_never_reads_is_dropped_and_others_keep_streaming(upstream, tmp_path):
    big = [
        f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 36 + "\n\n" for i in range(PARAGRAPHS)
    ]
    upstream.script(
        text_stream("Warm up"),
        text_stream(*big, delay=0.002),
        text_stream(*[f"t{i} " for i in range(40)], delay=0.05),
    )
    with live_server(
        tmp_path,
        LLM_BASE_URL=upstream.url,
        LLM_API_KEY="sk-buffer",
        LLM_DEFAULT_MODEL="test-model",
        CHAT_SOCKET_SEND_BUFFER=os.environ.get("XBUF", str(LIMIT)),
        CHAT_MAX_REPLY_CHARS="20000000",
    ) as server:
        env = {
            "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "",
        }
        silent_cookie = await asyncio.to_thread(user_cookie, env, "silent")
        reader_cookie = await asyncio.to_thread(user_cookie, env, "reader")
        reader = await Socket.open(server, reader_cookie)
        await reader.send(
            {"type": "chat.send", "client_id": "w", "conversation": None, "content": "Hi"}
        )
        await reader.until("message.completed")  # Everything a turn needs is loaded now.
        conversation = int(
            (await asyncio.to_thread(manage_shell, env, MAKE_CONVERSATION)).splitlines()[-1]
        )
        baseline = peak = server.rss_kb()
        opening = f'{{"type": "conversation.open", "conversation": {conversation}}}'.encode()
        silent = [
            await asyncio.to_thread(silent_websocket, server.port, silent_cookie, opening)
            for _ in range(SILENT - 1)
        ]
        sending = (
            '{"type": "chat.send", "client_id": "s", "content": "Go", '
            f'"conversation": {conversation}}}'
        ).encode()
        silent.append(
            await asyncio.to_thread(silent_websocket, server.port, silent_cookie, sending)
        )
        await reader.send(
            {"type": "chat.send", "client_id": "r", "conversation": None, "content": "Hi"}
        )
        while True:  # The other user's reply streams in full meanwhile.
            frame = await reader.receive(timeout=30)
            peak = max(peak, server.rss_kb())
            if frame["type"] == "message.completed":
                break
        assert frame["message"]["status"] == "complete"
        assert frame["message"]["content"] == "".join(f"t{i} " for i in range(40))

        def dropped() -> bool:
            nonlocal peak
            peak = max(peak, server.rss_kb())
            return server.log().count("Dropped a websocket whose client left") == SILENT

        await asyncio.to_thread(wait_for, dropped, 60, "the silent sockets were not all dropped")
        for sock in silent:
            sock.settimeout(10)
            with pytest.raises(OSError):  # What the kernel held, then the reset.
                while sock.recv(65536):
                    pass
                raise ConnectionResetError("closed without a reset")
            sock.close()
        await reader.close()
        # The reply itself takes memory as it streams (its text, its HTML, their copies:
        # about 11 MB here), but not the frames nobody read (about 70 MB without the bound).
        growth_mb = (peak - baseline) / 1024
        assert growth_mb < 30, f"the server grew by {growth_mb:.0f} MB"
