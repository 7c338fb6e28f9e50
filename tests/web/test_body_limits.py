"""The real server process: huge request bodies are refused before they are read, and a
large import leaves everyone else's chat working."""

import json
import select
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from websockets.sync.client import connect as ws_connect

from tests.fake_upstream import text_stream
from tests.live_server import live_server

MB = 1024 * 1024
HUGE = 900_000_000
IMPORT_MAX = 10_000_000  # The server's CHAT_IMPORT_MAX_BYTES in these tests.
FILE_MAX = 4_000_000  # Its CHAT_MAX_FILE_BYTES.


@pytest.fixture(scope="module")
def live(upstream, tmp_path_factory):
    with live_server(
        tmp_path_factory.mktemp("live"),
        LLM_BASE_URL=upstream.url,
        LLM_API_KEY="sk-live-secret",
        LLM_DEFAULT_MODEL="test-model",
        CHAT_IMPORT_MAX_BYTES=str(IMPORT_MAX),
        CHAT_MAX_FILE_BYTES=str(FILE_MAX),
    ) as server:
        yield server


def send_until_answered(port: int, head: bytes, piece: bytes, *, most: int) -> tuple[bytes, int]:
    """Send the request head, then body pieces, until the server answers or closes (or
    `most` bytes have gone); return what it answered and how many body bytes were sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        try:
            while sent < most:
                readable, _, _ = select.select([sock], [], [], 0.005)
                if readable:
                    break
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # The server closed: it read no more.
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    return answer, sent


def head(path: str, port: int, *, length: int | None, cookie: str = "") -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines.append(f"Content-Length: {length}" if length else "Transfer-Encoding: chunked")
    lines.append("Content-Type: application/octet-stream")
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(size: int) -> bytes:
    return f"{size:x}\r\n".encode() + b"x" * size + b"\r\n"


def test_huge_bodies_are_refused_before_they_are_read(live):
    before = live.rss_kb()
    port = live.port
    cases = [
        # (what, path, cookie, declared length or None for chunked, at most this is read)
        ("anonymous, declared", "/accounts/login/", "", HUGE, 0),
        ("anonymous, chunked", "/accounts/login/", "", None, 64 * 1024),
        ("signed in, declared", "/personas/new/", "sessionid=x", HUGE, 0),
        ("signed in, chunked", "/personas/new/", "sessionid=x", None, MB),
        ("import, declared", "/import/", "sessionid=x", HUGE, 0),
        ("import, chunked", "/import/", "sessionid=x", None, IMPORT_MAX + 64 * 1024),
        ("upload, declared", "/api/files", "sessionid=x", HUGE, 0),
        ("upload, chunked", "/api/files", "sessionid=x", None, FILE_MAX + 64 * 1024),
    ]
    for what, path, cookie, length, cap in cases:
        piece = b"x" * 65536 if length else chunked(65536)
        answer, sent = send_until_answered(
            port, head(path, port, length=length, cookie=cookie), piece, most=cap + 16 * MB
        )
        # The client stopped because the server answered (or closed), well before 900 MB.
        assert sent <= cap + 8 * MB, f"{what}: the server read {sent:,} bytes"
        assert answer.startswith(b"HTTP/1.1 413") or not answer, f"{what}: {answer[:80]!r}"
    grown = (live.rss_kb() - before) / 1024
    assert grown < 50, f"the server grew by {grown:.0f} MB"
    assert live.process.poll() is None


def test_bodies_within_the_caps_still_get_through(live):
    port = live.port
    # Anonymous: a small form gets to Django (which refuses it for want of a CSRF token).
    answer, _ = send_until_answered(
        port, head("/accounts/login/", port, length=10), b"a=b&c=d&ef", most=10
    )
    assert answer.startswith(b"HTTP/1.1 403")
    # Anonymous, just over the anonymous cap: refused.
    answer, _ = send_until_answered(
        port, head("/accounts/login/", port, length=64 * 1024 + 1), b"x" * 8192, most=MB
    )
    assert answer.startswith(b"HTTP/1.1 413")


def sign_up(url: str, username: str) -> httpx2.Client:
    client = httpx2.Client(base_url=url, timeout=120)
    client.get("/accounts/signup/")
    password = "a-long-test-password-9"
    response = client.post(
        "/accounts/signup/",
        data={
            "username": username,
            "password1": password,
            "password2": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    assert response.status_code == 302, response.text[:500]
    return client


def import_file(client: httpx2.Client, data: bytes) -> httpx2.Response:
    client.get("/import/")
    return client.post(
        "/import/",
        files={"file": ("conversations.json", data, "application/json")},
        data={"csrfmiddlewaretoken": client.cookies["csrftoken"]},
    )


def chain(size: int) -> bytes:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    tree = [
        {
            "id": i,
            "parent": i - 1 if i else None,
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"Message {i}: the quick brown fox jumps over the lazy dog",
            "created_at": (start + timedelta(seconds=i)).isoformat(),
        }
        for i in range(size)
    ]
    return json.dumps({"format": "chatsite.conversation", "title": "Long", "tree": tree}).encode()


def test_an_import_over_the_general_cap_but_within_its_own_gets_through(live):
    client = sign_up(live.url, "importer")
    data = chain(12_000)
    assert MB < len(data) < IMPORT_MAX
    response = import_file(client, data)
    assert response.status_code == 302, response.text[:500]
    # Anywhere else, a signed-in body that large is refused.
    response = client.post("/personas/new/", content=b"x" * (2 * MB))
    assert response.status_code == 413


def test_a_chat_send_during_a_large_import_succeeds(live, upstream):
    # A 30,000-message import once held SQLite's write lock for 65 s: every chat.send
    # meanwhile failed with server_error ("database is locked").
    alice, bob = sign_up(live.url, "alice"), sign_up(live.url, "bob")
    upstream.script(*[text_stream("Still here.") for _ in range(500)])
    data = chain(30_000)
    outcome: dict = {}
    importing = threading.Thread(target=lambda: outcome.update(response=import_file(alice, data)))
    origin = live.url
    with ws_connect(
        f"ws://127.0.0.1:{live.port}/ws/chat/",
        origin=origin,
        additional_headers={"Cookie": f"sessionid={bob.cookies['sessionid']}"},
        open_timeout=10,
    ) as ws:
        importing.start()
        conversation, turns, deadline = None, [], time.monotonic() + 180
        while importing.is_alive() and time.monotonic() < deadline:
            ws.send(
                json.dumps(
                    {
                        "type": "chat.send",
                        "client_id": f"b{len(turns)}",
                        "conversation": conversation,
                        "content": f"Are you there? ({len(turns)})",
                    }
                )
            )
            while True:
                # Longer than any bound of the server's own (its provider read timeout is
                # 60 s): a turn that fails there arrives as its error, which says why.
                frame = json.loads(ws.recv(timeout=120))
                if frame["type"] == "error":
                    turns.append(frame)
                    break
                if frame["type"] == "message.completed" and frame["message"]["role"] == "assistant":
                    conversation = frame["conversation"]
                    turns.append(frame["message"])
                    break
        importing.join(60)
    assert outcome["response"].status_code == 302, outcome["response"].text[:500]
    assert turns, "a chat turn should have been sent while the import ran"
    assert [t.get("status") for t in turns] == ["complete"] * len(turns), turns


def test_a_file_over_the_general_cap_but_within_its_own_is_uploaded(live):
    import io
    import os

    from PIL import Image

    client = sign_up(live.url, "uploader")
    noise = Image.frombytes("RGB", (1000, 700), os.urandom(1000 * 700 * 3))
    png = io.BytesIO()
    noise.save(png, "PNG")
    assert MB < len(png.getvalue()) < FILE_MAX
    headers = {"X-CSRFToken": client.cookies["csrftoken"]}
    response = client.post(
        "/api/files", files={"file": ("noise.png", png.getvalue())}, headers=headers
    )
    assert response.status_code == 201, response.text[:300]
    assert response.json()["kind"] == "image"
    # One byte over its own cap: refused before it is read.
    response = client.post(
        "/api/files", files={"file": ("big.bin", b"x" * (FILE_MAX + 1))}, headers=headers
    )
    assert response.status_code == 413
