"""The browser tests' shared site (Chromium and the fake provider are in tests/conftest.py,
which `make run`'s and the static files' tests use too)."""

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.live_server import ROOT, free_port


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    """The app as `make run` serves it: migrate, then daphne on a free port. Modules that
    seed their own data define a `site` of their own (browser_support.start_site)."""
    tmp = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-browser-secret",
        "LLM_DEFAULT_MODEL": "test-model",
        "REDIS_URL": "",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    log = open(tmp / "daphne.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conversations.web.server",  # daphne, with request bodies capped
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "chatsite.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("daphne did not start: " + (tmp / "daphne.log").read_text())
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)
    log.close()
