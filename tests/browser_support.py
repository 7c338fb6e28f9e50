"""Helpers for the chat page's browser tests: a module's own server and database, accounts,
seeding conversations through Django, and measuring what is on screen."""

import json
import os
import subprocess
import sys

from tests.live_server import ROOT, start_server

PASSWORD = "a-Strong-pass-42"
LLAMA = "meta-llama/Llama-3.3-70B-Instruct"
DEEPSEEK = "deepseek-ai/DeepSeek-V3"
MODELS = [LLAMA, DEEPSEEK, "deepseek-ai/DeepSeek-R1", "Qwen/Qwen2.5-72B-Instruct", "test-model"]


def start_site(upstream, tmp_path_factory, name: str, **settings: str):
    """The app as deployed (migrate, then daphne on a free port) with its own SQLite file,
    talking to `upstream`, which lists MODELS; `settings` are more of its environment."""
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
    server = start_server(env, tmp / "server.log")
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
