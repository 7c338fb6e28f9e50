"""Helpers for the chat page's browser tests: Chromium, whose pages report their script
errors, a module's own server and database, accounts, seeding conversations through Django,
and measuring what is on screen."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.live_server import ROOT, start_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a-Strong-pass-42"
LLAMA = "meta-llama/Llama-3.3-70B-Instruct"
DEEPSEEK = "deepseek-ai/DeepSeek-V3"
MODELS = [LLAMA, DEEPSEEK, "deepseek-ai/DeepSeek-R1", "Qwen/Qwen2.5-72B-Instruct", "test-model"]

# What a test's pages reported; the `no_script_errors` fixture (conftest) empties it before
# each test that drives Chromium and fails the test if anything is left in it afterwards.
PAGE_ERRORS: list[str] = []


def chromium_or_skip() -> str:
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is required under CI and is missing at {CHROMIUM}")
    pytest.skip(f"Chromium not installed at {CHROMIUM}")


class Browser:
    """Chromium, whose pages report uncaught script errors, and anything the pages'
    Content-Security-Policy refused, to PAGE_ERRORS."""

    def __init__(self, chromium) -> None:
        self.chromium = chromium

    def new_page(self, **options):
        page = self.chromium.new_page(**options)
        page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
        page.on("console", refused_by_csp)
        return page


def refused_by_csp(message) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        PAGE_ERRORS.append(f"{message.text} ({message.location.get('url')})")


def start_site(
    upstream, tmp_path_factory, name: str, *, command: list[str] | None = None, **settings: str
):
    """The app as deployed (migrate, then daphne on a free port) with its own SQLite file,
    talking to `upstream`, which lists MODELS; `settings` are more of its environment, and
    `command` the server's, when a test wraps it (live_server.start_server)."""
    upstream.models = {"object": "list", "data": [{"id": model} for model in MODELS]}
    tmp = tmp_path_factory.mktemp(name)
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-browser-secret",
        "LLM_DEFAULT_MODEL": "test-model",
        "REDIS_URL": "",
        **settings,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    server = start_server(env, tmp / "server.log", command=command)
    server.env = env
    return server


def django(site, code: str):
    """Run Python in the site's Django (its database); return what it printed last, as JSON."""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, **site.env},
        check=True,
        capture_output=True,
        text=True,
    )
    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def sign_up(page, base: str, username: str) -> None:
    """Make an account through the sign-up page; the chat page opens, connected."""
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    connected(page)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    connected(page)


def connected(page) -> None:
    """Wait until the chat page's script runs and its socket is open."""
    page.wait_for_selector("body[data-connected='true']", state="attached")


def box(locator) -> dict:
    """A locator's box on screen: x, y, width, height."""
    found = locator.bounding_box()
    assert found is not None, "not on screen"
    return found


def inside_viewport(page, locator) -> bool:
    size = page.viewport_size
    b = box(locator)
    return (
        b["x"] >= -1
        and b["y"] >= -1
        and b["x"] + b["width"] <= size["width"] + 1
        and b["y"] + b["height"] <= size["height"] + 1
    )


def seed_conversation(site, username: str, *, pairs: int, title: str, long: bool = False) -> int:
    """A conversation of `pairs` questions and answers, saved directly; returns its id."""
    filler = ("Some more words to give this message a few lines. " * 3) if long else ""
    return django(
        site,
        f"""
import json
from django.contrib.auth import get_user_model
from conversations import services
from tests import factories
user = get_user_model().objects.get(username={username!r})
conversation = services.conversation_create(owner=user, persona=None, model="", title={title!r})
parent = None
for i in range({pairs}):
    parent = factories.message_append(conversation=conversation, role="user", content=f"Message {{2 * i}} {filler}", parent=parent)
    parent = factories.message_append(conversation=conversation, role="assistant", content=f"Message {{2 * i + 1}} {filler}", parent=parent)
print(json.dumps(conversation.pk))
""",
    )
