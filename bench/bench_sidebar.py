"""The sidebar of a 2,000-conversation account with 50 projects, in Chromium.

The chat page lists at first only the conversations in no project (at most 500, in the
page itself), and each project as a section with its count of conversations (one
aggregate query); a section's conversations load (conversations.json?project=) when it is
opened, and the sections left open are opened again on load. Measured:
  - from navigation to the sidebar fully drawn in the document (a MutationObserver the
    page gets before its own scripts notes the time): the 50 projects with their counts
    and the date-grouped list; with every section closed, and with 5 left open (each
    section's list drawn too, after its conversations.json). Target: under 300 ms.
  - conversations.json's response time (the list in no project, and one project's), read
    directly.

Each figure is the median of RUNS runs, after one run not reported.

    python bench/bench_sidebar.py
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_concurrency import Site  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CONVERSATIONS = 2000
PROJECTS = 50
IN_PROJECTS = 1500  # 30 a project; the other 500 are in none.
OPEN = 5  # Sections left open, in the second measure.
TARGET_MS = 300

SEED = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model, HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from conversations.models import Conversation
from conversations.projects.models import Project
user = get_user_model().objects.create_user(username="organiser", password="!")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
projects = Project.objects.bulk_create(
    [Project(owner=user, name=f"Project {{i:02d}}", instructions="Be brief.") for i in range({projects})]
)
now = timezone.now()
rows = []
for i in range({conversations}):
    project = projects[i % len(projects)] if i < {in_projects} else None
    rows.append(Conversation(owner=user, title=f"Conversation {{i}} about garden plans",
                             project=project, pinned=i % 97 == 0))
made = Conversation.objects.bulk_create(rows, batch_size=500)
# Spread over the last 60 days, so every date group has some.
for i, c in enumerate(made):
    Conversation.objects.filter(pk=c.pk).update(updated_at=now - timedelta(minutes=43 * i))
print(json.dumps({{"cookie": session.session_key, "projects": [p.pk for p in projects]}}))
"""

# Installed before each page's own scripts: notes the time (since navigation began) the
# sidebar is first whole in the document: every project with its count, the list in no
# project, and each open section's list. Checked on every change to the document.
WATCH = """(() => {
  const expected = JSON.parse(localStorage.getItem("bench.expected") || "null");
  if (!expected) return;
  const drawn = () => {
    const sections = document.querySelectorAll("#project-list .project-section");
    if (sections.length !== expected.projects) return false;
    if ([...sections].some((s) => !s.querySelector(".project-count")?.textContent)) return false;
    if (!document.querySelector("#conversation-list li[data-id] a")) return false;
    const opened = document.querySelectorAll(".project-body:not([hidden])");
    if (opened.length !== expected.open) return false;
    for (const body of opened) if (!body.querySelector("li[data-id]")) return false;
    return true;
  };
  const watcher = new MutationObserver(() => {
    if (window.sidebarDrawn == null && drawn()) {
      window.sidebarDrawn = performance.now();
      watcher.disconnect();
    }
  });
  watcher.observe(document, { childList: true, subtree: true, attributes: true });
})();"""


def seed(env: dict) -> dict:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    code = SEED.format(projects=PROJECTS, conversations=CONVERSATIONS, in_projects=IN_PROJECTS)
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


async def drawn_ms(page, url: str, open_ids: list[int], user: str) -> float:
    """Milliseconds from navigation to the sidebar drawn, with these sections left open."""
    await page.evaluate(
        "([key, ids, expected]) => { localStorage.setItem(key, JSON.stringify(ids));"
        " document.cookie = `chat_projects_open=${ids.join('.')}; path=/`;"
        " localStorage.setItem('bench.expected', JSON.stringify(expected)); }",
        [f"chat.projects.open.{user}", open_ids, {"projects": PROJECTS, "open": len(open_ids)}],
    )
    await page.goto(url)
    handle = await page.wait_for_function("() => window.sidebarDrawn")
    return await handle.json_value()


async def response_ms(site: Site, cookie: str, path: str) -> float:
    async with aiohttp.ClientSession(cookies={"sessionid": cookie}) as http:
        started = time.perf_counter()
        async with http.get(f"http://{site.app_url}{path}") as response:
            assert response.status == 200, response.status
            await response.read()
        return (time.perf_counter() - started) * 1000


async def main() -> None:
    from playwright.async_api import async_playwright

    tmp = tempfile.mkdtemp(prefix="bench-sidebar-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DJANGO_SECRET_KEY": "bench-only",
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "BENCH_TMP": tmp,
        "DJANGO_STATIC_ROOT": f"{tmp}/static",  # Collected below: the pages' manifest.
        "CHAT_READS_PER_MINUTE": "0",  # Limits are not what is measured here.
        "CHAT_WRITES_PER_MINUTE": "0",
    }
    made = seed(env)
    site = Site(env=env)
    site.start_provider(10, 1)
    site.start_app()
    url = f"http://{site.app_url}/"
    try:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            context = await chromium.new_context(viewport={"width": 1280, "height": 800})
            host = site.app_url.split(":")[0]
            await context.add_cookies(
                [{"name": "sessionid", "value": made["cookie"], "domain": host, "path": "/"}]
            )
            await context.add_init_script(WATCH)
            page = await context.new_page()
            await page.goto(url)
            if not await page.query_selector("#boot"):
                raise SystemExit(f"No chat page at {page.url}: {(await page.content())[:2000]}")
            user = await page.evaluate(
                "JSON.parse(document.getElementById('boot').textContent).user"
            )
            closed, opened, lists, one, pages = [], [], [], [], []
            for _ in range(RUNS + 1):  # The first run warms up; not reported.
                closed.append(await drawn_ms(page, url, [], user))
                opened.append(await drawn_ms(page, url, made["projects"][:OPEN], user))
                lists.append(await response_ms(site, made["cookie"], "/conversations.json"))
                path = f"/conversations.json?project={made['projects'][0]}"
                one.append(await response_ms(site, made["cookie"], path))
                pages.append(await response_ms(site, made["cookie"], "/"))
            await chromium.close()
    finally:
        site.stop()
    rows = [
        ("navigation to sidebar drawn, every project closed", closed, True),
        (f"navigation to sidebar drawn, {OPEN} projects left open", opened, True),
        ("GET / (the chat page, its HTML)", pages, False),
        ("GET /conversations.json (the 500 in no project)", lists, False),
        ("GET /conversations.json?project= (one project's 30)", one, False),
    ]
    print(
        f"\nThe sidebar of {CONVERSATIONS:,} conversations in {PROJECTS} projects "
        f"({IN_PROJECTS:,} in projects), Chromium, {os.cpu_count()} cores, median of {RUNS} runs"
    )
    print("| measure | median | worst | target |")
    print("|---|---|---|---|")
    for name, values, targeted in rows:
        values = values[1:]
        middle = statistics.median(values)
        verdict = f"{TARGET_MS} ms: {'met' if middle < TARGET_MS else 'MISSED'}" if targeted else ""
        print(f"| {name} | {middle:.0f} ms | {max(values):.0f} ms | {verdict} |", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
