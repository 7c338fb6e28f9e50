"""Real server processes for tests: the app as it is deployed, on a free loopback port."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import websockets
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from tests.helpers import check_frame

ROOT = Path(__file__).resolve().parent.parent
# The server as deployed: daphne, with request bodies capped before they are read.
SERVER_COMMAND = [sys.executable, "-m", "conversations.web.server"]
# Every server started in this run: a failed test's report shows the end of their logs
# (tests/conftest.py), which is where a server's side of a failure is written.
STARTED: list["LiveServer"] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """One server process."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_kb(self) -> int:
        """The server process's resident memory, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS for the server process")

    def kill(self) -> None:
        """Die at once, as a crash would: no cleanup of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(
    env: dict,
    log_path: Path,
    *,
    timeout: float = 30,
    port: int | None = None,
    command: list[str] | None = None,
) -> LiveServer:
    """Start the app in its own process (on `port`, else a free one) and wait until it
    accepts connections. `command`: the server as deployed, unless a test wraps it."""
    port = port or free_port()
    log = open(log_path, "ab")  # The process writes to it until it stops.
    process = subprocess.Popen(
        [
            *(command or SERVER_COMMAND),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "chatsite.asgi:application",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            server = LiveServer(process, port, log_path)
            STARTED.append(server)
            return server
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("The server did not start:\n" + log_path.read_text(errors="replace"))


@contextmanager
def live_server(tmp: Path, **environ: str) -> Iterator[LiveServer]:
    """A fresh SQLite file, `migrate`, then one server process on it, stopped afterwards."""
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "REDIS_URL": "",
        **environ,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    server = start_server(env, tmp / "server.log")
    try:
        yield server
    finally:
        server.stop()


def session_cookie(user) -> str:
    """A saved session for a user, as the sign-in page would make it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


class Socket:
    """A browser tab's websocket to one server, speaking JSON frames."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self._parts: dict[int, list] = {}

    @classmethod
    async def open(cls, server: LiveServer, cookie: str) -> "Socket":
        connection = await websockets.connect(
            server.ws_url,
            additional_headers={"Cookie": cookie, "Origin": server.url},
            max_size=None,
        )
        return cls(connection)

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame))

    async def receive(self, timeout: float = 10) -> dict:
        """The next frame, whole (frame parts are joined, as the page does)."""
        import asyncio

        while True:
            frame = check_frame(json.loads(await asyncio.wait_for(self.connection.recv(), timeout)))
            if frame["type"] != "frame.part":
                return frame
            parts = self._parts.setdefault(frame["id"], [None] * frame["count"])
            parts[frame["index"]] = frame["data"]
            if all(part is not None for part in parts):
                del self._parts[frame["id"]]
                return check_frame(json.loads("".join(parts)))

    async def until(self, kind: str, timeout: float = 10, **match) -> list[dict]:
        """Frames up to and including the first of this type matching `match`."""
        frames = []
        while True:
            frame = await self.receive(timeout)
            frames.append(frame)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frames

    async def close(self) -> None:
        await self.connection.close()


def migrated_sqlite(tmp: Path) -> dict:
    """The settings of a fresh, migrated SQLite database for server processes to share."""
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    return env


MAKE_USER = """
from django.contrib.auth import get_user_model
from tests.live_server import session_cookie
user = get_user_model().objects.create_user(username={name!r}, password="pw-live-12345")
print(session_cookie(user))
"""


def user_cookie(env: dict, name: str) -> str:
    """A user in the server's database, and a signed-in session cookie for them."""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", MAKE_USER.format(name=name)],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def server_env(tmp: Path, **overrides: str) -> dict[str, str]:
    """A test server's whole environment: its own SQLite file, no Redis, then `overrides`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "REDIS_URL": "",
        "LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "LLM_API_KEY": "sk-live-server-test",
    }
    return env | overrides


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a `manage.py` command in its own process with exactly this environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )
