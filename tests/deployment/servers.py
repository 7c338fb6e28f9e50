"""Real server processes on the suite's database: SQLite files of their own, or the
PostgreSQL test database (with Redis) in the suite's second run. Rows the servers write are
read back with a plain connection, as an operator would."""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
from django.conf import settings

from tests.live_server import ROOT, LiveServer, Socket, migrated_sqlite


def on_postgresql() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def database_env(tmp: Path) -> dict[str, str]:
    """Where test server processes keep their data: this run's PostgreSQL test database
    and Redis, or a fresh, migrated SQLite file."""
    if not on_postgresql():
        return migrated_sqlite(tmp)
    from django.db import connection

    db = settings.DATABASES["default"]
    # The suite's test database (made by now; settings name it once a test has used it).
    name = db["NAME"] if db["NAME"].startswith("test_") else connection.creation._get_test_db_name()
    return {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{name}",
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
    }


def query(env: dict[str, str], sql: str, *params) -> list[tuple]:
    """Rows of one SELECT on the servers' database (placeholders: %s)."""
    url = dj_database_url.parse(env["DATABASE_URL"])
    if "sqlite" in url["ENGINE"]:
        with sqlite3.connect(url["NAME"], timeout=30) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def message_row(env: dict[str, str], message_id: int) -> tuple[str, str]:
    """A message's saved (status, content)."""
    rows = query(env, "SELECT status, content FROM conversations_message WHERE id = %s", message_id)
    return rows[0]


MAKE_USERS = """
from django.contrib.auth import get_user_model
from tests.live_server import session_cookie
for name in {names!r}:
    user = get_user_model().objects.create_user(username=name, password="pw-live-12345")
    print(session_cookie(user))
"""


def new_users(env: dict[str, str], count: int) -> list[str]:
    """New users in the servers' database (one process for all); their session cookies."""
    names = [f"user-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", MAKE_USERS.format(names=names)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-count:]


async def send(socket: Socket, content: str, conversation: int | None = None) -> None:
    await socket.send(
        {
            "type": "chat.send",
            "client_id": uuid.uuid4().hex,
            "conversation": conversation,
            "content": content,
        }
    )


async def turn(
    server: LiveServer, cookie: str, content: str, *, conversation=None, timeout: float = 30
) -> list[dict]:
    """Send a message on a new socket; every frame up to the reply's completion."""
    socket = await Socket.open(server, cookie)
    try:
        await send(socket, content, conversation)
        return await until_reply_ends(socket, timeout=timeout)
    finally:
        await socket.close()


async def until_reply_ends(socket: Socket, *, timeout: float) -> list[dict]:
    """Frames up to the `message.completed` of the assistant's reply."""
    frames: list[dict] = []
    while True:
        frames += await socket.until("message.completed", timeout=timeout)
        if frames[-1]["message"]["role"] == "assistant":
            return frames


def reply_of(frames: list[dict]) -> dict:
    """The reply as its last frame saved it."""
    return frames[-1]["message"]


def interrupted(frames: list[dict]) -> list[dict]:
    """Frames that show a message interrupted."""
    return [
        frame
        for frame in frames
        if isinstance(frame.get("message"), dict)
        and frame["message"].get("status") == "interrupted"
    ]


class Serve:
    """`manage.py serve` as deployed, in a process group of its own (a service manager's
    unit): the command that starts the app's processes and looks after them."""

    def __init__(self, env: dict[str, str], log_path: Path, *, processes: int) -> None:
        from tests.live_server import free_port

        self.port = free_port()
        self.log_path = log_path
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--port",
                str(self.port),
                "--processes",
                str(processes),
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=open(log_path, "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_healthy(self, seconds: float = 60) -> None:
        import time

        deadline = time.monotonic() + seconds
        while not self.healthy():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.2)

    def workers(self) -> list[int]:
        """The pids of the app's processes serve runs now."""
        found = []
        for pid in os.listdir("/proc"):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if b"conversations.web.server" in cmdline and parent == self.process.pid:
                found.append(int(pid))
        return sorted(found)

    def stop(self) -> None:
        import signal

        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
