"""Many people at once: added time to first token, total time, bytes and memory.

For each level of concurrency (1, 10, 50, 200 streams) and each run, two phases on the
same machine, never at the same time:
  - direct: N clients read the fake provider's stream themselves (with aiohttp, which the
    app's client runs on);
  - app: N signed-in websocket clients (distinct users) each send one message at once,
    and the app streams the same reply to them.
"Added" figures are the app's minus the direct ones, from the same run; the server's CPU
time (user and system, from /proc) is taken over the app phase, per token streamed. Each
figure is the median of RUNS runs. Then one stream of a long reply (bytes per socket
against the reply's own text plus its final HTML), and 1,000 idle sockets (memory each).

    python bench/bench_concurrency.py                # SQLite, in-memory channel layer
    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/bench_concurrency.py

The provider (bench/fake_provider.py) and the app (daphne) run in their own processes.
"""

import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import websockets

ROOT = Path(__file__).resolve().parent.parent
LEVELS = [int(x) for x in os.environ.get("BENCH_LEVELS", "1,10,50,200").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TOKENS, SPACING_MS = 200, 5.0
LONG_REPLY_TOKENS = int(os.environ.get("BENCH_LONG_TOKENS", "80000"))
IDLE_SOCKETS = int(os.environ.get("BENCH_IDLE_SOCKETS", "1000"))
# Turns the app serves, ten at a time, before anything is measured: a server that has run a
# while has its pools filled and its statements prepared (PostgreSQL prepares a statement
# on its fifth run on a connection). Not reported.
WARM_UP = int(os.environ.get("BENCH_WARM_UP", "100"))
# Permissions on (the default): the users' model is kept to a group they are all in.
ACCESS = os.environ.get("BENCH_ACCESS", "1") != "0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid: int) -> int:
    """Resident memory of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class RssSampler:
    """The highest resident memory of a process seen while sampling."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0, None

    async def __aenter__(self):
        async def sample():
            while True:
                self.peak = max(self.peak, rss_kb(self.pid))
                await asyncio.sleep(0.05)

        self._task = asyncio.create_task(sample())
        return self

    async def __aexit__(self, *exc):
        self._task.cancel()
        self.peak = max(self.peak, rss_kb(self.pid))


@dataclass
class Stream:
    """One client's view of one reply."""

    ttft: float | None = None
    total: float | None = None
    bytes: int = 0
    text: str = ""
    complete: bool = False
    final_html: str = ""


@dataclass
class Site:
    """The provider and the app, each in its own process."""

    env: dict
    tokens: int = TOKENS
    provider: subprocess.Popen | None = None
    app: subprocess.Popen | None = None
    provider_url: str = ""
    direct: aiohttp.ClientSession | None = None
    app_url: str = ""
    cookies: list[str] = field(default_factory=list)

    def start_provider(self, tokens: int, spacing_ms: float, shape: str = "mixed") -> None:
        if self.provider:
            self.provider.terminate()
            self.provider.wait()
        port = free_port()
        self.provider = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fake_provider.py"), str(port), str(tokens),
             str(spacing_ms), shape],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert self.provider.stdout.readline().strip() == b"ready"
        self.provider_url = f"http://127.0.0.1:{port}/v1"

    def start_app(self) -> None:
        port = free_port()
        env = self.env | {
            "LLM_BASE_URL": self.provider_url,
            "LLM_API_KEY": "sk-bench",
            "LLM_DEFAULT_MODEL": "bench-model",
        }
        self.log = open(self.env["BENCH_TMP"] + "/daphne.log", "ab")
        self.app = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "chatsite.asgi:application"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        self.app_url = f"127.0.0.1:{port}"

    def stop(self) -> None:
        for process in (self.app, self.provider):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


def prepare_database(env: dict, users: int) -> list[str]:
    """Migrate, make `users` users and return a session cookie for each."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    access = ACCESS
    script = f"""
import json
from django.contrib.auth import get_user_model, HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
User = get_user_model()
prefix = "bench-{uuid.uuid4().hex[:6]}-"
made = User.objects.bulk_create([User(username=prefix + str(i), password="!") for i in range({users})])
if {access!r}:
    # Permissions on: the model every turn uses is kept to a group all the users are in,
    # beside fifty other rules, so each start checks a rule and a membership.
    from django.contrib.auth.models import Group
    from conversations.access import services as access_services
    team = Group.objects.create(name=prefix + "team")
    others = [Group.objects.create(name=prefix + f"other{{n}}") for n in range(5)]
    Member = User.groups.through
    Member.objects.bulk_create([
        Member(user_id=pk, group_id=team.pk)
        for pk in User.objects.filter(username__startswith=prefix).values_list("pk", flat=True)
    ])
    access_services.rule_set(kind="model", name="bench-model", group_ids=[team.pk])
    for n in range(50):
        access_services.rule_set(kind="tool", name=f"bench-tool-{{n}}", group_ids=[others[n % 5].pk])
cookies = []
for user in User.objects.filter(username__startswith=prefix).order_by("id"):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    cookies.append("sessionid=" + session.session_key)
print(json.dumps(cookies))
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


async def direct_phase(site: Site, clients: int) -> list[Stream]:
    """Each client reads the provider's stream itself, with the app's HTTP client (aiohttp)
    over the direct side's kept connections (the app keeps its own: neither side pays a
    connect once warm)."""
    url, http = site.provider_url, site.direct
    body = {
        "model": "bench-model",
        "stream": True,
        "messages": [{"role": "user", "content": "Hi"}],
    }

    async def one() -> Stream:
        result = Stream()
        start = time.perf_counter()
        async with http.post(f"{url}/chat/completions", json=body) as response:
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = (json.loads(line[6:]).get("choices") or [{}])[0].get("delta", {})
                if delta.get("content"):
                    if result.ttft is None:
                        result.ttft = time.perf_counter() - start
                    result.text += delta["content"]
        result.total = time.perf_counter() - start
        result.complete = True
        return result

    return list(await asyncio.gather(*(one() for _ in range(clients))))


async def open_sockets(site: Site, cookies: list[str]) -> list:
    origin = f"http://{site.app_url}"

    async def connect(cookie):
        return await websockets.connect(
            f"ws://{site.app_url}/ws/chat/",
            additional_headers={"Cookie": cookie, "Origin": origin},
            max_size=None,
            open_timeout=60,
        )

    sockets = []
    for start in range(0, len(cookies), 100):  # A hundred at a time: no SYN flood.
        sockets += await asyncio.gather(*(connect(c) for c in cookies[start : start + 100]))
    return sockets


async def app_phase(site: Site, cookies: list[str]) -> list[Stream]:
    """Each signed-in client sends one message at the same moment."""
    sockets = await open_sockets(site, cookies)
    # A page's socket opens well before its user sends: let the server finish taking the
    # sockets in (the session check, joining the user's group) so the turns are measured
    # alone, not behind that work.
    await asyncio.sleep(0.5 + len(sockets) / 200)

    async def one(ws) -> Stream:
        result = Stream()
        reply_id = None
        blocks = ""
        start = time.perf_counter()
        await ws.send(json.dumps({
            "type": "chat.send", "client_id": uuid.uuid4().hex, "conversation": None,
            "content": "Hi",
        }))  # fmt: skip
        parts: dict[int, list[str]] = {}
        async for raw in ws:
            result.bytes += len(raw)
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "frame.part":  # A frame over the websocket limit, in parts: join them.
                pieces = parts.setdefault(frame["id"], [])
                pieces.append(frame["data"])
                if len(pieces) < frame["count"]:
                    continue
                frame = json.loads("".join(parts.pop(frame["id"])))
                kind = frame.get("type")
            if kind == "message.created" and frame["message"]["role"] == "assistant":
                reply_id = frame["message"]["id"]
            elif kind == "message.delta" and frame.get("message") == reply_id:
                if result.ttft is None and frame.get("content"):
                    result.ttft = time.perf_counter() - start
                blocks += frame.get("blocks") or ""
            elif kind == "message.completed" and frame["message"]["id"] == reply_id:
                result.total = time.perf_counter() - start
                result.text = frame["message"]["content"]
                # The final HTML: the finished blocks streamed, then the rest (html_from).
                tail = frame["message"].get("html") or ""
                result.final_html = blocks + tail if "html_from" in frame["message"] else tail
                result.complete = frame["message"]["status"] == "complete"
                return result
            elif kind == "error":
                result.total = time.perf_counter() - start
                return result
        return result

    try:
        return list(await asyncio.wait_for(asyncio.gather(*(one(ws) for ws in sockets)), 120))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def level(site: Site, clients: int, expected: str) -> dict:
    runs = []
    peak = 0
    # One round of each side at this concurrency first, not reported: both then have as many
    # connections open as the level needs, as a server does at its usual load.
    await direct_phase(site, clients)
    await app_phase(site, site.cookies[RUNS * clients : (RUNS + 1) * clients])
    for run in range(RUNS):
        direct = await direct_phase(site, clients)
        cookies = site.cookies[run * clients : (run + 1) * clients]
        cpu = cpu_seconds(site.app.pid)
        async with RssSampler(site.app.pid) as rss:
            app = await app_phase(site, cookies)
        cpu = cpu_seconds(site.app.pid) - cpu
        peak = max(peak, rss.peak)
        app_ttft = [s.ttft for s in app if s.ttft is not None]
        runs.append({
            "direct_ttft_p50": percentile([s.ttft for s in direct], 0.5),
            "added_p50": percentile(app_ttft, 0.5) - percentile([s.ttft for s in direct], 0.5)
            if app_ttft else float("nan"),
            "added_p99": percentile(app_ttft, 0.99) - percentile([s.ttft for s in direct], 0.99)
            if app_ttft else float("nan"),
            "ratio": percentile([s.total for s in app if s.total], 0.5)
            / percentile([s.total for s in direct], 0.5),
            "complete": sum(1 for s in app if s.complete and s.text == expected),
            "bytes": statistics.median(s.bytes for s in app),
            "budget": statistics.median(
                3 * len(s.text.encode()) + len(s.final_html.encode()) for s in app
            ),
            "cpu_per_token": cpu / (clients * site.tokens),
        })  # fmt: skip
    keys = ("direct_ttft_p50", "added_p50", "added_p99", "ratio", "bytes", "budget",
            "cpu_per_token")  # fmt: skip
    return {key: statistics.median(r[key] for r in runs) for key in keys} | {
        "complete": min(r["complete"] for r in runs),
        "peak_rss_mb": peak / 1024,
    }


async def idle_sockets(site: Site) -> float:
    """KiB of server memory per open, idle, signed-in socket."""
    await asyncio.sleep(1)
    before = rss_kb(site.app.pid)
    sockets = await open_sockets(site, site.cookies[:IDLE_SOCKETS])
    await asyncio.sleep(2)
    after = rss_kb(site.app.pid)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return (after - before) / len(sockets)


def fresh_postgres_database(url: str, name: str) -> str:
    """A new, empty database beside the one `url` names; its URL."""
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


async def main() -> None:
    global RUNS
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="bench-concurrency-")
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    if database.startswith("postgres"):
        # Named after the given database, so that two checkouts' runs do not share one.
        name = database.rsplit("/", 1)[1].split("?")[0]
        database = fresh_postgres_database(database, f"{name}_bench")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_SECRET_KEY": "bench-only",
        "DATABASE_URL": database,
        "CHAT_AUTO_TITLES": "0",
        "LOG_LEVEL": "WARNING",
        "BENCH_TMP": tmp,
    }
    layer = "Redis" if env.get("REDIS_URL") else "in-memory layer"
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    users = max(max(LEVELS) * (RUNS + 1), IDLE_SOCKETS) + WARM_UP
    site = Site(env=env)
    site.cookies = prepare_database(env, users)
    site.start_provider(TOKENS, SPACING_MS)
    site.start_app()
    try:
        from fake_provider import reply_tokens

        expected = "".join(reply_tokens(TOKENS))
        cpu = os.cpu_count()
        print(f"\nConcurrent streams, {engine} + {layer}, {cpu} cores: {TOKENS} tokens "
              f"{SPACING_MS:g} ms apart; median of {RUNS} runs; "
              f"permissions {'on' if ACCESS else 'off'}")  # fmt: skip
        print("| streams | direct TTFT p50 | added TTFT p50 | added TTFT p99 | total vs direct "
              "| complete | bytes/socket (budget) | server peak RSS | server CPU per token |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|")
        # Warm up both sides (imports, connection pools, prepared statements); not reported.
        site.direct = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        await direct_phase(site, 2)
        for start in range(0, WARM_UP, 10):
            await app_phase(site, site.cookies[-WARM_UP:][start : start + 10])
        for clients in LEVELS:
            r = await level(site, clients, expected)
            print(
                f"| {clients} | {r['direct_ttft_p50'] * 1000:.1f} ms | "
                f"{r['added_p50'] * 1000:+.1f} ms | {r['added_p99'] * 1000:+.1f} ms | "
                f"{r['ratio']:.2f}x | {r['complete']}/{clients} | "
                f"{r['bytes'] / 1024:.1f} KiB ({r['budget'] / 1024:.1f}) | "
                f"{r['peak_rss_mb']:.0f} MB | {r['cpu_per_token'] * 1e6:.0f} µs |",
                flush=True,
            )
        per_socket = await idle_sockets(site)
        print(f"\n{IDLE_SOCKETS} idle sockets: {per_socket:.1f} KiB of server memory each")
        # One long reply: bytes received against 3x its text plus its final HTML.
        site.stop()
        site.start_provider(LONG_REPLY_TOKENS, 0)
        site.start_app()
        for tokens in (LONG_REPLY_TOKENS // 4, LONG_REPLY_TOKENS):
            site.start_provider(tokens, 0)
            site.app.terminate()
            site.app.wait()
            site.start_app()
            [stream] = await app_phase(site, site.cookies[-1:])
            size = len(stream.text.encode())
            print(
                f"long reply of {size / 1024:.0f} KiB: {stream.bytes / 1024:.0f} KiB received "
                f"by the socket, {stream.bytes / max(1, 3 * size + len(stream.final_html)):.2f}"
                f" of 3x text + final HTML; complete: {stream.complete}"
            )
    finally:
        if site.direct is not None:
            await site.direct.close()
        site.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    asyncio.run(main())
