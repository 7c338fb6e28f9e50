"""The MCP servers' tools across server processes: two real daphne processes on one
PostgreSQL database and one Redis; an entry saved elsewhere (here: by the test process, as
the admin of a third process would) is listed by both at once, through the channel layer
(their periodic refresh is minutes away), and so is a change to what it offers. Each
process's admin page shows the server's status as that process knows it. Runs in the
suite's PostgreSQL and Redis run."""

import asyncio
import os
import re
import urllib.request

import pytest
from channels.db import database_sync_to_async as db

from conversations.mcp_servers.models import McpServer
from tests.deployment.test_multiprocess import database_url
from tests.live_server import session_cookie, start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]

WITHIN = 10.0  # Seconds each process may take to hear of a change and list the tools.


@pytest.fixture
def pair(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "LLM_API_KEY": "sk-multi",
        "CHAT_AUTO_TITLES": "0",
        "CHAT_MCP_REFRESH_SECONDS": "3600",
    }
    servers = [start_server(env, tmp_path / f"{name}.log") for name in ("a", "b")]
    for server in servers:  # A health check starts a process's runtime, as a balancer's does.
        urllib.request.urlopen(f"{server.url}/healthz", timeout=10).close()
    yield servers
    for server in servers:
        server.stop()


def tools_column(server, cookie: str) -> str:
    """The "tools" column of the admin's list, as this process knows it."""
    request = urllib.request.Request(
        f"{server.url}/admin/conversations/mcpserver/", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    found = re.findall(r'class="field-tool_count">([^<]*)<', page)
    return found[0] if found else ""


async def until_column(servers, cookie: str, wanted: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    for server in servers:
        while (seen := await asyncio.to_thread(tools_column, server, cookie)) != wanted:
            assert loop.time() < deadline, f"{server.url} still shows {seen!r}"
            await asyncio.sleep(0.2)


async def test_a_save_is_heard_by_every_process(pair, mcp_server, django_user_model):
    admin = await db(django_user_model.objects.create_superuser)(
        username="root", password="pw-root-123"
    )
    cookie = await db(session_cookie)(admin)
    row = await db(McpServer.objects.create)(
        name="Test tools", prefix="test", url=mcp_server.url, internal=True
    )
    await until_column(pair, cookie, "10 of 10")
    row.offered_tools = ["echo"]
    await db(row.save)()
    await until_column(pair, cookie, "1 of 10")
    await db(row.delete)()
    for server in pair:
        assert await asyncio.to_thread(tools_column, server, cookie) == ""
