"""Shared fixtures: the fake upstream, users, signed-in websocket connections, and Chromium
(for the browser tests and for the deployment tests that drive it)."""

import asyncio
import os

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client, override_settings

from conversations.access import policy as access_policy
from conversations.chat import runtime
from conversations.limits import rate_limits, turn_limits
from conversations.mcp_servers import discovery as mcp_discovery
from conversations.provider import catalog, upstream
from conversations.review import stats as review_stats
from conversations.tools import external, registry
from tests import live_server
from tests.browser_support import CHROMIUM_ARGS, PAGE_ERRORS, Browser, chromium_or_skip
from tests.fake_upstream import FakeUpstream
from tests.helpers import ProtocolCommunicator
from tests.mcp_servers.server import McpTestServer

API_KEY = "sk-test-secret-key-123"
SERVER_LOG_TAIL = 8000  # Characters of each server log shown with a failed test.
SETUP_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran real server processes shows the end of their logs: in CI,
    the server's side of the failure (an exception, a refusal) is otherwise gone."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup":
        item.stash[SETUP_STARTED] = call.start
    if report.when != "call" or not report.failed:
        return
    since = item.stash.get(SETUP_STARTED, call.start)
    for server in live_server.STARTED:
        try:
            if server.log_path.stat().st_mtime < since:
                continue  # Nothing written since this test began.
            log = server.log()
        except OSError:
            continue
        report.sections.append(
            (f"server log {server.log_path} (port {server.port}), its end", log[-SERVER_LOG_TAIL:])
        )


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """The static files collected once, as `make run` collects them (the production
    storage: hashed names, rewritten imports, a manifest), into this run's own folder.
    Pages rendered here link to them, and every server a test starts serves them (with
    DEBUG off, through whitenoise), so the suite runs the files people are served."""
    root = tmp_path_factory.mktemp("staticfiles")
    before = os.environ.get("DJANGO_STATIC_ROOT")
    os.environ["DJANGO_STATIC_ROOT"] = str(root)  # Every process a test starts.
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root
    if before is None:
        del os.environ["DJANGO_STATIC_ROOT"]
    else:
        os.environ["DJANGO_STATIC_ROOT"] = before


@pytest.fixture(scope="session", autouse=True)
def files_root(tmp_path_factory):
    """Files users attach are stored in this run's own folder (the storage as deployed,
    its location moved), here and in every process a test starts."""
    root = tmp_path_factory.mktemp("private-files")
    before = os.environ.get("CHAT_FILES_ROOT")
    os.environ["CHAT_FILES_ROOT"] = str(root)
    storages = dict(settings.STORAGES)
    storages[settings.CHAT_FILES_STORAGE] = {
        **storages[settings.CHAT_FILES_STORAGE],
        "OPTIONS": {"location": str(root), "file_permissions_mode": 0o600},
    }
    with override_settings(STORAGES=storages, CHAT_FILES_ROOT=root):
        yield root
    if before is None:
        del os.environ["CHAT_FILES_ROOT"]
    else:
        os.environ["CHAT_FILES_ROOT"] = before


@pytest.fixture
def fake_upstream(settings):
    """A scriptable completions server on loopback, wired into the settings."""
    server = FakeUpstream().start()
    settings.LLM_BASE_URL = server.url
    settings.LLM_API_KEY = API_KEY
    settings.LLM_DEFAULT_MODEL = "test-model"
    upstream.forget_models()
    yield server
    server.stop()
    upstream.forget_models()


@pytest.fixture(scope="session", autouse=True)
def close_connection_pools(django_db_setup, django_db_blocker):
    """psycopg's pools keep connections open: close them, or the test database cannot go."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if hasattr(connection, "close_pool"):
                connection.close_pool()
            connection.close()


@pytest.fixture(autouse=True)
def fresh_review_counts():
    """The dashboard's counts held in memory belong to the test that made them."""
    review_stats.forget()
    yield
    review_stats.forget()


def forget_counts() -> None:
    catalog.forget_rows()
    access_policy.forget()
    mcp_discovery.forget()
    turn_limits.forget_tokens()
    rate_limits.reset()
    if settings.REDIS_URL:  # Sockets counted by an earlier test (or run) for the same ids.
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("chat:sockets:*", count=1000):
            client.delete(key)
        client.close()


@pytest.fixture(autouse=True)
def fresh_memory():
    """What a process keeps in memory of the database (model rows, unwritten token counts)
    and the rates it counted belong to the test that read or made them."""
    forget_counts()
    yield
    forget_counts()


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new in-memory channel layer per test: its queues belong to one event loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
async def no_leftover_replies():
    """Every test ends with no reply task still running, no hold of one on the hub, and
    this loop's runtime stopped."""
    yield
    process = runtime.existing()
    if process is not None:
        tasks = [turn.task for turn in process.turns.values() if turn.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert not process.hub._holds  # Every turn let go of the Redis work it held.
    await runtime.shutdown()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="mallory", password="pw-mallory-123")


def session_cookie(user) -> str:
    """A session cookie for a signed-in user, as a browser would send it."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
async def connect():
    """Open a websocket through the real ASGI application, as `user` (or anonymous)."""
    from chatsite.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _connect(user=None, *, origin: str = "http://localhost") -> WebsocketCommunicator:
        headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
            headers.append((b"cookie", cookie.encode()))
        communicator = ProtocolCommunicator(application, "/ws/chat/", headers=headers)
        opened.append(communicator)
        return communicator

    yield _connect
    for communicator in opened:
        if not communicator.future.done():
            # Not the default 1 s: an app cancelled while still closing leaves its database
            # thread running into the next test's flush.
            await communicator.disconnect(timeout=10)
    await runtime.shutdown()  # This test's loop ends: so do the process loops it started.


@pytest.fixture
def tool_registry():
    """Register test-only tools for one test; afterwards the registry is as it was."""
    saved = dict(registry.REGISTRY)

    def register(*functions, isolated: bool = True) -> None:
        for function in functions:
            registry.REGISTRY[function.__name__] = registry.build_tool(function, isolated=isolated)

    yield register
    registry.REGISTRY.clear()
    registry.REGISTRY.update(saved)


@pytest.fixture
def external_tools():
    """A test-only source of external tools (tests/tools/external_for_tests.py), offered
    through tools.external for one test."""
    from tests.tools.external_for_tests import TestSource

    source = TestSource()
    external.add_source(source)
    yield source
    external.SOURCES.remove(source)


@pytest.fixture(scope="module", name="upstream")
def upstream_fixture():
    """A fake provider for one module's servers (a browser test's site, `make run`)."""
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield Browser(chromium)
        chromium.close()


@pytest.fixture(autouse=True)
def no_script_errors(request):
    """Every test that drives Chromium ends with no uncaught error in its pages' scripts
    (and nothing their Content-Security-Policy refused)."""
    if "browser" not in request.fixturenames:
        yield
        return
    PAGE_ERRORS.clear()
    yield
    assert PAGE_ERRORS == []


# The review accounts: a reviewer, staff without review's rights, a superuser.


@pytest.fixture(name="reviewer")
def reviewer_fixture(django_user_model):
    user = django_user_model.objects.create_user(
        username="rita", password="pw-rita-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


@pytest.fixture(name="staff")
def staff_fixture(django_user_model):
    """Staff without the Reviewers group (say, someone who manages personas)."""
    user = django_user_model.objects.create_user(
        username="sam", password="pw-sam-123", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="conversations",
            codename__in=["view_conversation", "change_persona", "view_persona"],
        )
    )
    return user


@pytest.fixture(name="boss")
def boss_fixture(django_user_model):
    return django_user_model.objects.create_superuser(username="boss", password="pw-boss-123")


@pytest.fixture
def mcp_server():
    """A real MCP server on loopback, built with the SDK's server side
    (tests/mcp_servers/server.py: its tools echo, sleep, fail, hang, return huge results,
    vanish, declare hints, and announce tools/list_changed). Never skipped: a server that
    cannot start fails the test, under CI=true as anywhere (it needs only the SDK)."""
    try:
        server = McpTestServer().start()
    except Exception as error:
        pytest.fail(f"The test MCP server could not start: {error}")
    yield server
    server.stop()
