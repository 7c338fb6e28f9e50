"""CPU per streamed event of the provider client, for each way of making it.

Each arrangement reads the same completions from bench/fake_provider.py (its own process,
so none of its work is counted) as conversations/llm/client.py does: one shared client
whose pool holds the level's connections, a request with its timeouts and an `on_sent`
hook, the body a chunk at a time split into lines by sse.LineSplitter, the events decoded
(sse.SSEDecoder, sse.ChunkReader), and what follows [DONE] read so that the connection is
kept. The arrangements:

  - aiohttp: aiohttp's own API and pool (the client before it spoke httpx's API);
  - httpx2: httpx2 over its own pool (httpcore2, h11);
  - httpx + httpx-aiohttp: httpx 0.28+'s API over aiohttp's transport (httpx-aiohttp);
  - httpx2 + httpx-aiohttp: the same with httpx2's API (httpx-aiohttp's httpx2 module);
  - LLMClient: conversations.llm.LLMClient as it is in this tree, whole (its retry loop
    and layers of generators included).

At 1, 10, 50 and 200 streams at once (a level of one stream repeats it MIN_STREAMS times)
this process's CPU time (time.process_time) is divided by the SSE events read. The machine
is shared and noisy, so within each run the arrangements alternate, their order rotating
from level to level, and each is reported as a ratio to aiohttp's figure at the same level
of the same run; every figure is the median of RUNS runs.

    python bench/bench_client.py
    BENCH_RUNS=7 BENCH_LEVELS=1,10,50,200 python bench/bench_client.py
"""

import asyncio
import gc
import json
import os
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import httpx
import httpx2
import httpx_aiohttp
import httpx_aiohttp.httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fake_provider import reply_tokens  # noqa: E402

from conversations.llm import ChatMessage, ChatRequest, LLMClient, TextDelta  # noqa: E402
from conversations.llm.client import AFTER_DONE_BYTES, AFTER_DONE_SECONDS, MAX_LINE  # noqa: E402
from conversations.llm.sse import DONE, ChunkReader, LineSplitter, SSEDecoder  # noqa: E402

LEVELS = [int(x) for x in os.environ.get("BENCH_LEVELS", "1,10,50,200").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
MIN_STREAMS = int(os.environ.get("BENCH_MIN_STREAMS", "10"))
TOKENS = int(os.environ.get("BENCH_TOKENS", "200"))
SPACING_MS = float(os.environ.get("BENCH_SPACING_MS", "5"))
# The events of one completion from the fake provider: the role, each token, the usage,
# the finish and [DONE].
EVENTS = TOKENS + 4
# As the app's client: a connection limit far above the levels, a minute of keep-alive,
# the silence timeout and the deadline (none is reached here).
CONNECT, READ, DEADLINE, LIMIT, KEEP = 5.0, 60.0, 600.0, 1000, 60.0
BODY = json.dumps(
    ChatRequest(model="bench-model", messages=[ChatMessage("user", "Hi")]).to_json()
).encode()
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}


def sent_hook() -> Callable[[], None]:
    """An `on_sent` as the app's: it does next to nothing."""
    flag = asyncio.Event()
    return flag.set


class Aiohttp:
    """aiohttp's API and pool, as conversations/llm/client.py used them."""

    name = "aiohttp"

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        trace = aiohttp.TraceConfig()
        trace.on_request_chunk_sent.append(self._sent)
        self.session = aiohttp.ClientSession(
            headers={"Authorization": HEADERS["Authorization"]},
            connector=aiohttp.TCPConnector(limit=LIMIT, limit_per_host=0, keepalive_timeout=KEEP),
            trace_configs=[trace],
            read_bufsize=MAX_LINE // 2,
        )

    @staticmethod
    async def _sent(session, context, params) -> None:
        sent = context.trace_request_ctx
        if sent and not sent["called"]:
            sent["called"] = True
            sent["on_sent"]()

    @asynccontextmanager
    async def post(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        timeout = aiohttp.ClientTimeout(
            total=None, connect=READ, sock_connect=CONNECT, sock_read=READ
        )
        async with self.session.post(
            url,
            data=BODY,
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            allow_redirects=False,
            trace_request_ctx={"on_sent": sent_hook(), "called": False},
        ) as response:
            assert response.status == 200
            yield response.content.iter_any()

    async def close(self) -> None:
        await self.session.close()


class HttpxAPI:
    """httpx's API (httpx or httpx2, the module given), over a transport."""

    def __init__(self, name: str, module, transport: Callable[[], object] | None) -> None:
        self.name, self.module, self.transport = name, module, transport
        self.client = None

    async def start(self) -> None:
        hx = self.module
        limits = hx.Limits(
            max_connections=LIMIT, max_keepalive_connections=LIMIT, keepalive_expiry=KEEP
        )
        self.client = hx.AsyncClient(
            headers={"Authorization": HEADERS["Authorization"]},
            limits=limits,
            verify=ssl.create_default_context(),
            trust_env=False,
            transport=self.transport() if self.transport else None,
        )

    @asynccontextmanager
    async def post(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        timeout = self.module.Timeout(connect=CONNECT, read=READ, write=READ, pool=READ)
        on_sent = sent_hook()

        async def body():  # `on_sent` once the body has been written.
            yield BODY
            on_sent()

        headers = {"Content-Type": "application/json", "Content-Length": str(len(BODY))}
        async with self.client.stream(
            "POST", url, content=body(), headers=headers, timeout=timeout
        ) as response:
            assert response.status_code == 200
            yield response.aiter_bytes()

    async def close(self) -> None:
        await self.client.aclose()


def aiohttp_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=LIMIT, limit_per_host=0, keepalive_timeout=KEEP),
        read_bufsize=MAX_LINE // 2,
    )


class Shipped:
    """conversations.llm.LLMClient as it is in this tree."""

    name = "LLMClient"

    def __init__(self, url: str) -> None:
        self.url = url.removesuffix("/chat/completions")
        self.client: LLMClient | None = None

    async def start(self) -> None:
        self.client = LLMClient(base_url=self.url, api_key="sk-bench", max_connections=LIMIT)

    async def read(self) -> tuple[int, str]:
        request = ChatRequest(model="bench-model", messages=[ChatMessage("user", "Hi")])
        text = []
        async for event in self.client.stream(request, on_sent=sent_hook()):
            if isinstance(event, TextDelta):
                text.append(event.text)
        return EVENTS, "".join(text)

    async def close(self) -> None:
        await self.client.aclose()


async def events_of(chunks: AsyncIterator[bytes]) -> AsyncIterator[object]:
    """The client's reading: lines split here, events decoded, the rest after [DONE]."""
    lines, decoder, reader = LineSplitter(MAX_LINE), SSEDecoder(), ChunkReader()
    async for raw in chunks:
        for line in lines.feed(raw):
            for data in decoder.feed(line):
                if data.strip() == DONE:
                    yield DONE
                    try:
                        async with asyncio.timeout(AFTER_DONE_SECONDS):
                            left = AFTER_DONE_BYTES
                            async for rest in chunks:
                                left -= len(rest)
                                if left <= 0:
                                    break
                    except TimeoutError:
                        pass
                    return
                yield data
                for event in reader.read(json.loads(data)):
                    yield event


async def read_one(arrangement, url: str) -> tuple[int, str]:
    if isinstance(arrangement, Shipped):
        return await arrangement.read()
    events, text = 0, []
    async with arrangement.post(url) as chunks:
        async for event in events_of(chunks):
            if isinstance(event, str):
                events += 1
            elif isinstance(event, TextDelta):
                text.append(event.text)
    return events, "".join(text)


async def measure(arrangement, url: str, streams: int, expected: str) -> float:
    """Microseconds of this process's CPU per event, `streams` at once (repeated up to
    MIN_STREAMS in all)."""
    rounds = max(1, -(-MIN_STREAMS // streams))
    gc.collect()
    started = time.process_time()
    results = []
    for _ in range(rounds):
        results += await asyncio.gather(*(read_one(arrangement, url) for _ in range(streams)))
    spent = time.process_time() - started
    bad = [r for r in results if r != (EVENTS, expected)]
    if bad:
        raise SystemExit(f"{arrangement.name}: {len(bad)} streams incomplete, e.g. {bad[0]!r}")
    return spent / (len(results) * EVENTS) * 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    provider = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_provider.py"), str(port), str(TOKENS),
         str(SPACING_MS)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert provider.stdout.readline().strip() == b"ready"
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    expected = "".join(reply_tokens(TOKENS))
    arrangements = [
        Aiohttp(),
        HttpxAPI("httpx2", httpx2, None),
        HttpxAPI(
            "httpx + httpx-aiohttp",
            httpx,
            lambda: httpx_aiohttp.AiohttpTransport(client=aiohttp_session),
        ),
        HttpxAPI(
            "httpx2 + httpx-aiohttp",
            httpx2,
            lambda: httpx_aiohttp.httpx2.AiohttpTransport(client=aiohttp_session),
        ),
        Shipped(url),
    ]
    names = [a.name for a in arrangements]
    try:
        for arrangement in arrangements:
            await arrangement.start()
        # Each pool opens the connections of the largest level first (not reported).
        for arrangement in arrangements:
            await measure(arrangement, url, max(LEVELS), expected)
        cpu: dict[tuple[str, int], list[float]] = {}
        ratios: dict[tuple[str, int], list[float]] = {}
        for run in range(RUNS):
            for index, streams in enumerate(LEVELS):
                shift = (run + index) % len(arrangements)
                order = arrangements[shift:] + arrangements[:shift]
                spent = {a.name: await measure(a, url, streams, expected) for a in order}
                for name, value in spent.items():
                    cpu.setdefault((name, streams), []).append(value)
                    ratios.setdefault((name, streams), []).append(value / spent["aiohttp"])
            print(f"run {run + 1}/{RUNS} done", file=sys.stderr, flush=True)
    finally:
        for arrangement in arrangements:
            if getattr(arrangement, "session", None) or getattr(arrangement, "client", None):
                await arrangement.close()
        provider.terminate()
        provider.wait()

    print(
        f"\nClient CPU per streamed event, {os.cpu_count()} cores: {TOKENS} tokens "
        f"{SPACING_MS:g} ms apart; median of {RUNS} runs (µs per event; ratio to aiohttp "
        "in the same run)"
    )
    print("| arrangement | " + " | ".join(f"{n} stream{'s' * (n > 1)}" for n in LEVELS) + " |")
    print("|---|" + "---|" * len(LEVELS))
    for name in names:
        cells = []
        for streams in LEVELS:
            micro = statistics.median(cpu[name, streams])
            ratio = statistics.median(ratios[name, streams])
            cells.append(f"{micro:.1f} µs ({ratio:.2f}x)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    asyncio.run(main())
