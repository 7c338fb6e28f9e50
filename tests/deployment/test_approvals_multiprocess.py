"""A tool call waiting for approval in one server process, answered from a socket in
another: the request reaches a tab opened there, and the answer reaches the turn.

Runs when REDIS_URL is set (the suite's PostgreSQL + Redis run), as test_multiprocess.py.
"""

import json
import os
import sys

import pytest

from tests.deployment.test_multiprocess import cookie, env  # noqa: F401 - fixtures
from tests.fake_upstream import text_stream, tool_calls_stream
from tests.live_server import Socket, start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]

COMMAND = [sys.executable, "-m", "tests.deployment.external_tools_server"]


@pytest.fixture
def servers(env, tmp_path):  # noqa: F811 - env is the fixture imported above
    started = []

    def start(name: str):
        server = start_server(env, tmp_path / f"{name}.log", command=COMMAND)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def test_an_approval_from_a_socket_in_another_process_reaches_the_turn(
    servers,
    upstream,
    cookie,  # noqa: F811 - the fixture imported above
):
    a, b = servers("a"), servers("b")
    upstream.script(
        tool_calls_stream(("files__delete", json.dumps({"text": "old.txt"}))),
        text_stream("Deleted."),
    )
    writer = await Socket.open(a, cookie)
    await writer.send(
        {
            "type": "chat.send",
            "client_id": "c1",
            "conversation": None,
            "content": "Delete old.txt",
            "tools": ["files__delete"],
        }
    )
    asked = (await writer.until("tool.approval_requested"))[-1]
    other = await Socket.open(b, cookie)
    await other.send({"type": "conversation.open", "conversation": asked["conversation"]})
    frames = await other.until("tool.approval_requested")
    kinds = [frame["type"] for frame in frames]
    assert "conversation.state" in kinds  # The state first, then the request.
    assert frames[-1]["call_id"] == asked["call_id"] and frames[-1]["server"] == "files"
    await other.send(
        {
            "type": "tool.approve",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "approve": True,
        }
    )
    for tab in (writer, other):
        settled = (await tab.until("tool.approval_settled"))[-1]
        assert settled["answer"] == "approved"
    result = (await writer.until("message.tool_result"))[-1]["message"]
    assert result["content"].startswith("deleted old.txt")
    assert result["tool_record"]["outcome"] == "ok"
    assert result["tool_record"]["server"] == "files"
    final = (await writer.until("message.completed"))[-1]
    while final["message"]["tool_calls"]:
        final = (await writer.until("message.completed"))[-1]
    assert final["message"]["content"] == "Deleted."
    await writer.close()
    await other.close()
