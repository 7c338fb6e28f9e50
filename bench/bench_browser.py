"""The chat page in Chromium: reading a long chat back to its start, and showing a long reply.

Two measures, each beside a baseline taken in the same run, on the same server:
  - scrolling to the top of a 320-message chat: from the first scroll up until the first
    message is on screen (the page loads older messages as the reader reaches the top),
    and the longest task the page ran meanwhile (PerformanceObserver, "longtask"). The
    baseline is fetching the same older pages over a websocket without rendering them.
    Targets: under 1 s, and no task over 100 ms.
  - a reply of about 100 KB: from pressing Send until the finished reply is on screen,
    in a new chat and at the end of a 320-message chat, for a reply of many small blocks
    (paragraphs, lists, code) and for one long code block. The baseline is the
    provider's own time for the same stream, read directly. Target: within 1.2x of it.
    The longest task is shown too.

The app (daphne), the provider (bench/fake_provider.py) and Chromium each run in their own
processes; each figure is the median of RUNS runs, after one run not reported.

    python bench/bench_browser.py
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_concurrency import Site  # noqa: E402
from fake_provider import reply_tokens  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
MESSAGES = 320
REPLY_BYTES = 100_000
PROVIDER_SECONDS = 5.0  # The provider streams the long reply over about this long.
# Tokens for a reply of about REPLY_BYTES in each shape (bench/fake_provider.py).
SHAPES = {
    "mixed": round(REPLY_BYTES / len("".join(reply_tokens(27))) * 27),
    "code": round(REPLY_BYTES / len("".join(reply_tokens(111, "code")[1:-1])) * 109),
}
SHAPE_NAMES = {"mixed": "paragraphs, lists and code blocks", "code": "one code block"}

# A chat people write: short questions, answers of a couple of KB with a heading, a list, a
# table, some maths and a code block, as models write them.
QUESTION = "Could you explain how {topic} works, with an example I can try?"
ANSWER = (
    "## How {topic} works\n\n"
    "Here is how **{topic}** works, step by step, with the reasoning behind each step "
    "and what to watch for when you try it yourself.\n\n"
    "1. First, the input is read and checked, so that nothing malformed gets further.\n"
    "2. Then each part is handled in turn, keeping a running total as $t_k = t_{{k-1}} + x_k$.\n"
    "3. Finally the result is written out, with a note of how long it took.\n\n"
    "| step | cost | notes |\n|:--|--:|---|\n| read | $O(n)$ | once |\n"
    "| handle | $O(n \\log n)$ | sorted first |\n| write | $O(n)$ | buffered |\n\n"
    "```python\ndef {name}(items: list[int]) -> int:\n"
    '    """Add the items up, skipping the negative ones."""\n'
    "    total = 0\n    for item in sorted(items):\n        if item < 0:\n"
    "            continue\n        total += item\n    return total\n\n\n"
    'if __name__ == "__main__":\n    print({name}([3, -1, 4, 1, -5, 9]))\n```\n\n'
    "> In short: {topic} keeps each step small, so it is easy to test.\n\n"
    "- It is predictable.\n- It is easy to reason about.\n- It scales with its input.\n\n"
    "The quick brown fox jumps over the lazy dog while planning a garden of tomatoes, "
    "and then the fox reads about {topic} again, to be sure of every step."
)
TOPICS = ["a hash map", "a queue", "garbage collection", "a B-tree", "TLS", "a cache"]

SEED = """
import json
from django.contrib.auth import get_user_model, HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from conversations import services
user = get_user_model().objects.create_user(username="reader", password="!")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
texts = json.loads(open({path!r}).read())
made = []
for copy in range({copies}):
    conversation = services.conversation_create(owner=user, persona=None, model="", title="Long")
    parent = None
    for i, text in enumerate(texts):
        role = "user" if i % 2 == 0 else "assistant"
        parent = services.message_append(conversation=conversation, role=role, content=text, parent=parent)
    made.append(conversation.pk)
print(json.dumps({{"cookie": session.session_key, "conversations": made}}))
"""

# Scrolls the message list to its top each frame, as a reader holding Home would, until
# the first message is on screen; meanwhile records the page's long tasks.
SCROLL_TO_TOP = """async () => {
  const list = document.getElementById("messages");
  const tasks = [];
  const observer = new PerformanceObserver((found) => {
    for (const entry of found.getEntries()) tasks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  const first = () => list.querySelector("article.message[data-id]");
  const started = performance.now();
  await new Promise((resolve) => {
    const step = () => {
      if (document.getElementById("load-older").hidden && first()?.textContent.includes("Message 0:")) {
        resolve();
        return;
      }
      list.scrollTop = 0;
      requestAnimationFrame(step);
    };
    step();
  });
  const elapsed = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50)); // The last task's entry.
  observer.disconnect();
  return { elapsed, longest: Math.max(0, ...tasks), tasks: tasks.length,
           messages: list.querySelectorAll("article.message[data-id]").length };
}"""

# Sends the message box's text and resolves once the reply is finished on screen.
SEND_AND_WAIT = """async () => {
  const tasks = [];
  const observer = new PerformanceObserver((found) => {
    for (const entry of found.getEntries()) tasks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  const known = new Set([...document.querySelectorAll("article.message[data-id]")].map((el) => el.dataset.id));
  const done = () => [...document.querySelectorAll("article.message.assistant.status-complete")]
    .some((el) => !known.has(el.dataset.id));
  const started = performance.now();
  document.getElementById("send").click();
  await new Promise((resolve) => {
    const watcher = new MutationObserver(() => {
      if (done()) { watcher.disconnect(); resolve(); }
    });
    watcher.observe(document.getElementById("messages"), { childList: true, subtree: true, attributes: true });
  });
  const elapsed = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50)); // The last task's entry.
  observer.disconnect();
  return { elapsed, longest: Math.max(0, ...tasks) };
}"""


def seed(env: dict, copies: int) -> dict:
    """An account and `copies` identical conversations of MESSAGES messages."""
    texts = []
    for i in range(MESSAGES):
        topic = TOPICS[i % len(TOPICS)]
        body = QUESTION if i % 2 == 0 else ANSWER
        texts.append(f"Message {i}:\n\n" + body.format(topic=topic, name=f"step_{i}"))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    path = Path(env["BENCH_TMP"]) / "texts.json"
    path.write_text(json.dumps(texts))
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED.format(path=str(path), copies=copies)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


async def fetch_history(site: Site, cookie: str, conversation: int) -> float:
    """Seconds to fetch the pages above the first one over a websocket, unrendered."""
    origin = f"http://{site.app_url}"
    async with websockets.connect(
        f"ws://{site.app_url}/ws/chat/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": origin},
        max_size=None,
    ) as ws:

        async def frame_of(kind: str) -> dict:
            parts: list[str] = []
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "frame.part":
                    parts.append(frame["data"])
                    if len(parts) < frame["count"]:
                        continue
                    frame = json.loads("".join(parts))
                    parts = []
                if frame["type"] == kind:
                    return frame

        await ws.send(json.dumps({"type": "conversation.open", "conversation": conversation}))
        state = await frame_of("conversation.state")
        oldest, more = state["messages"][0]["id"], state["has_more"]
        started = time.perf_counter()
        while more:
            await ws.send(json.dumps({
                "type": "conversation.history", "conversation": conversation, "before": oldest,
            }))  # fmt: skip
            page = await frame_of("conversation.history")
            oldest, more = page["messages"][0]["id"], page["has_more"]
        return time.perf_counter() - started


async def provider_time(site: Site) -> tuple[float, int]:
    """Seconds for the provider's whole stream read directly, and the text's length."""
    body = {"model": "bench-model", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    text = []
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        async with http.post(f"{site.provider_url}/chat/completions", json=body) as response:
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data: ") and line != "data: [DONE]":
                    delta = (json.loads(line[6:]).get("choices") or [{}])[0].get("delta", {})
                    text.append(delta.get("content") or "")
        return time.perf_counter() - started, len("".join(text))


def median(values: list[float]) -> float:
    return statistics.median(values)


async def main() -> None:
    from playwright.async_api import async_playwright

    tmp = tempfile.mkdtemp(prefix="bench-browser-")
    env = {
        **os.environ,
        # The test settings serve static files from their folders, with no collectstatic.
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DJANGO_SECRET_KEY": "bench-only",
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
        "REDIS_URL": "",
        "CHAT_AUTO_TITLES": "0",
        "LOG_LEVEL": "WARNING",
        "BENCH_TMP": tmp,
        # Limits are not what is measured here.
        "CHAT_READS_PER_MINUTE": "0",
        "CHAT_WRITES_PER_MINUTE": "0",
        "CHAT_TURNS_PER_MINUTE": "0",
    }
    # One conversation to read back; one more for each long reply written at its end.
    made = seed(env, copies=1 + len(SHAPES) * (RUNS + 1))
    spare = iter(made["conversations"][1:])
    site = Site(env=env)
    site.start_provider(10, 1)
    site.start_app()
    try:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            print(f"\nThe chat page in Chromium ({os.cpu_count()} cores), median of {RUNS} runs")
            print("| measure | result | baseline in the same run | ratio | longest task |")
            print("|---|---|---|---|---|")
            page = await signed_in_page(chromium, site, made["cookie"])
            await reading_back(site, page, made)
            for shape in SHAPES:
                # The app reads its provider's address at start: both start again.
                site.stop()
                site.start_provider(SHAPES[shape], PROVIDER_SECONDS * 1000 / SHAPES[shape], shape)
                site.start_app()
                page = await signed_in_page(chromium, site, made["cookie"])
                await long_reply(site, page, shape, "/")
                await long_reply(site, page, shape, None, spare)
            await chromium.close()
    finally:
        site.stop()


async def signed_in_page(chromium, site: Site, cookie: str):
    context = await chromium.new_context(viewport={"width": 1280, "height": 800})
    host = site.app_url.split(":")[0]
    await context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
    return await context.new_page()


async def opened(site: Site, page, path: str) -> None:
    await page.goto(f"http://{site.app_url}{path}")
    await page.wait_for_selector("body[data-connected='true']", state="attached")


def task_figures(results: list[dict]) -> str:
    """The longest task's median and worst over the runs ("none": none over 50 ms, the
    least a browser reports as a long task)."""

    def ms(value: float) -> str:
        return f"{value:.0f} ms" if value else "none"

    longest = [r["longest"] for r in results]
    return f"{ms(median(longest))} (worst {ms(max(longest))})"


async def opened_long(site: Site, page, conversation: int) -> None:
    await opened(site, page, f"/conversations/{conversation}/")
    await page.wait_for_function(
        "() => document.querySelectorAll('article.message[data-id]').length >= 100"
    )


async def reading_back(site: Site, page, made: dict) -> None:
    """Scrolling to the top in the browser, against fetching the same pages unrendered."""
    scrolls, fetches = [], []
    conversation = made["conversations"][0]
    for _ in range(RUNS + 1):  # The first run warms up both sides; not reported.
        fetches.append(await fetch_history(site, made["cookie"], conversation))
        await opened_long(site, page, conversation)
        scrolls.append(await page.evaluate(SCROLL_TO_TOP))
    scrolls, fetches = scrolls[1:], fetches[1:]
    assert all(s["messages"] == MESSAGES for s in scrolls), scrolls
    scroll_ms = median([s["elapsed"] for s in scrolls])
    fetch_ms = median(fetches) * 1000
    print(
        f"| scroll to the top of {MESSAGES} messages (target under 1 s) | {scroll_ms:.0f} ms | "
        f"{fetch_ms:.0f} ms to fetch the same pages over the socket, unrendered | "
        f"{scroll_ms / fetch_ms:.1f}x | {task_figures(scrolls)} |",
        flush=True,
    )


async def long_reply(site: Site, page, shape: str, path: str | None, spare=None) -> None:
    """A long reply shown in the browser, against the provider's own time for it: in a new
    chat (`path` "/"), or at the end of a long conversation (one of `spare` each run)."""
    shows, provided = [], []
    for _ in range(RUNS + 1):
        provided.append(await provider_time(site))
        if path is None:
            await opened_long(site, page, next(spare))
        else:
            await opened(site, page, path)
        await page.fill("#input", "Write at length")
        shows.append(await page.evaluate(SEND_AND_WAIT))
    shows, provided = shows[1:], provided[1:]
    show_ms = median([s["elapsed"] for s in shows])
    provider_ms = median([p[0] for p in provided]) * 1000
    size = provided[-1][1]
    where = "in a new chat" if path else f"at the end of a {MESSAGES}-message chat"
    print(
        f"| a reply of {size / 1000:.0f} KB ({SHAPE_NAMES[shape]}) {where}, Send to shown "
        f"(target 1.2x) | {show_ms:.0f} ms | {provider_ms:.0f} ms for the provider's stream, "
        f"read directly | {show_ms / provider_ms:.2f}x | {task_figures(shows)} |",
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
