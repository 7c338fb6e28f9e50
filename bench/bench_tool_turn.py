"""What one tool call adds to a turn: a built-in tool against an MCP server's tool.

A turn here is a message whose reply calls one tool, then answers: two requests to the
fake provider (bench/fake_provider.py calls the first tool offered when the last message
is the user's), the tool's run in between. Three kinds of turn, in turns, one at a time,
each in a new conversation, timed from the send to the final reply's `message.completed`:
  - no tool offered (one request: the floor);
  - the built-in `calculator` (run in a tool worker process);
  - `add` on an MCP server (bench/fake_mcp_server.py, the SDK's server side over
    streamable HTTP, on loopback: the entry is marked internal).
Prints the medians and each tool turn's cost over the floor.

    python bench/bench_tool_turn.py [TURNS]        # 30 of each by default
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_concurrency import ROOT, Site, free_port, prepare_database

TURNS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
MCP_TOOL = "bench__add"


def configure(env: dict, mcp_url: str) -> None:
    """The bench model calls tools; one MCP server entry, internal, its tool trusted."""
    script = f"""
from conversations.models import ModelInfo
from conversations.mcp_servers.models import McpServer
ModelInfo.objects.update_or_create(
    model_id="bench-model", defaults={{"supports_tools": True, "context_window": 32768}}
)
McpServer.objects.create(
    name="bench", prefix="bench", url={mcp_url!r}, internal=True, enabled=True,
)
"""
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True
    )


async def turn(ws, tools: list[str] | None) -> float | None:
    """Seconds from the send to the final reply's completion; None if it did not complete."""
    frame = {"type": "chat.send", "client_id": uuid.uuid4().hex, "content": "What is 2+2?"}
    if tools is not None:
        frame["tools"] = tools
    start = time.perf_counter()
    await ws.send(json.dumps(frame))
    async for raw in ws:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "error":
            if os.environ.get("BENCH_DEBUG"):
                print(frame)
            return None
        if kind == "message.completed":
            message = frame["message"]
            if message["role"] == "assistant" and not message.get("tool_calls"):
                elapsed = time.perf_counter() - start
                if os.environ.get("BENCH_DEBUG") and message["status"] != "complete":
                    print(message)
                return elapsed if message["status"] == "complete" else None
    return None


async def measure(site: Site) -> dict[str, list[float]]:
    origin = f"http://{site.app_url}"
    ws = await websockets.connect(
        f"ws://{site.app_url}/ws/chat/",
        additional_headers={"Cookie": site.cookies[0], "Origin": origin},
        max_size=None,
    )
    kinds = {"no tool": [], "built-in calculator": ["calculator"], "MCP add": [MCP_TOOL]}
    times: dict[str, list[float]] = {name: [] for name in kinds}
    try:
        # The MCP server's tools are discovered in the background after start-up: wait for
        # a turn that offers the tool to be accepted, then warm every kind up.
        deadline = time.monotonic() + 60
        while await turn(ws, [MCP_TOOL]) is None:
            if time.monotonic() > deadline:
                raise SystemExit("The MCP server's tool was never offered.")
            await asyncio.sleep(0.5)
        for tools in kinds.values():
            for _ in range(3):
                await turn(ws, tools)
        for _ in range(TURNS):
            for name, tools in kinds.items():
                elapsed = await turn(ws, tools)
                if elapsed is None:
                    raise SystemExit(f"A turn with {name} did not complete.")
                times[name].append(elapsed)
    finally:
        await ws.close()
    return times


async def main() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-tool-turn-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_SECRET_KEY": "bench-only",
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
        "CHAT_AUTO_TITLES": "0",
        # One user sends every turn here, far faster than a person: no per-minute limits.
        "CHAT_TURNS_PER_MINUTE": "1000000",
        "CHAT_TOOL_CALLS_PER_MINUTE": "1000000",
        "CHAT_SOCKET_FRAMES_PER_MINUTE": "1000000",
        "LOG_LEVEL": "WARNING",
        "BENCH_TMP": tmp,
    }
    port = free_port()
    mcp = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_mcp_server.py"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    site = Site(env=env)
    try:
        assert mcp.stdout.readline().strip() == b"ready"
        site.cookies = prepare_database(env, 1)
        configure(env, f"http://127.0.0.1:{port}/mcp")
        site.start_provider(20, 0.0)
        site.start_app()
        times = await measure(site)
    finally:
        site.stop()
        mcp.terminate()
        mcp.wait(10)
    floor = statistics.median(times["no tool"])
    print(f"\nOne turn, one at a time, SQLite; median of {TURNS} turns of each kind, in turns")
    print("| turn | median | over the turn with no tool |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.1f} ms | {(median - floor) * 1000:+.1f} ms |")


if __name__ == "__main__":
    asyncio.run(main())
