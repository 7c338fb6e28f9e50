"""External tools in a turn over the websocket: offered per user, called, recorded in the
frames and the database, and calls that ask first approved, denied, timed out or stopped."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as db

from conversations.chat import lifecycle
from conversations.models import Message
from conversations.personas.models import Persona
from tests.fake_upstream import text_stream, tool_calls_stream
from tests.helpers import by_type, eventually, open_socket, receive_until, send_frame
from tests.tools.external_for_tests import HOSTILE, arguments

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def tool_records(conversation_id: int) -> list[dict]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, role="tool")
        .order_by("id")
        .values_list("tool_record", flat=True)
    )


async def until_approval(ws) -> dict:
    return (await receive_until(ws, "tool.approval_requested"))[-1]


async def until_done(ws) -> list[dict]:
    """Frames until a reply completes without tool calls (the turn's last)."""
    frames = []
    while True:
        frames += await receive_until(ws, "message.completed")
        message = frames[-1]["message"]
        if not message["tool_calls"] or message["status"] != "complete":
            return frames


async def test_an_external_tool_is_offered_called_and_recorded(
    connect, user, fake_upstream, external_tools
):
    fake_upstream.script(
        tool_calls_stream(("files__echo", arguments(text="hi"))), text_stream("Done.")
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(tools=["files__echo"], tool_choice="files__echo"))
    frames = await until_done(ws)
    first, second = fake_upstream.completions()
    (offered,) = first.body["tools"]
    assert offered["function"]["name"] == "files__echo"
    assert offered["function"]["parameters"]["required"] == ["text"]
    assert first.body["tool_choice"] == {"type": "function", "function": {"name": "files__echo"}}
    assert second.body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": second.body["messages"][-1]["tool_call_id"],
        "content": "echo: hi",
    }
    record = by_type(frames, "message.completed")[0]["message"]["request"]
    assert record["tools"] == ["files__echo"]
    assert record["tools_external"] == {
        "files__echo": {
            "source": "mcp",
            "server": "files",
            "remote_name": "echo",
            "needs_approval": False,
        }
    }
    (result,) = by_type(frames, "message.tool_result")
    shown = result["message"]["tool_record"]
    assert shown["server"] == "files" and shown["remote_name"] == "echo"
    assert shown["outcome"] == "ok" and shown["arguments"] == '{"text": "hi"}'
    assert isinstance(shown["duration_ms"], int)
    assert await db(tool_records)(result["conversation"]) == [shown]


async def test_external_tools_are_refused_to_users_their_source_does_not_offer(
    connect, user, other_user, fake_upstream, external_tools
):
    external_tools.allowed["files__echo"] = {other_user.pk}
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(tools=["files__echo"]))
    refused = (await receive_until(ws, "error"))[-1]
    assert refused["message"] == "Unknown tool 'files__echo'." and refused["client_id"] == "c1"
    await ws.send_json_to(send_frame(client_id="c2", tool_choice="files__echo"))
    refused = (await receive_until(ws, "error"))[-1]
    assert refused["message"] == "'tool_choice' must be auto, none, required or a tool's name."
    # The model names it anyway: refused, never run.
    fake_upstream.script(
        tool_calls_stream(("files__echo", arguments(text="x"))), text_stream("Sorry.")
    )
    await ws.send_json_to(send_frame(client_id="c3"))
    frames = await until_done(ws)
    (result,) = by_type(frames, "message.tool_result")
    assert result["message"]["content"].startswith("Error: tool 'files__echo' was not offered.")
    assert result["message"]["tool_record"]["outcome"] == "refused"
    assert external_tools.calls == []


async def test_a_persona_offers_external_tools_and_records_those_gone(
    connect, user, fake_upstream, external_tools
):
    persona = await db(Persona.objects.create)(
        owner=user, name="Filer", tools=["files__echo", "files__gone", "calculator"]
    )
    fake_upstream.script(text_stream("Hi."))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(persona=persona.pk))
    frames = await until_done(ws)
    record = frames[-1]["message"]["request"]
    assert record["tools"] == ["files__echo", "calculator"]
    assert record["tools_unavailable"] == ["files__gone"]
    names = [t["function"]["name"] for t in fake_upstream.completions()[0].body["tools"]]
    assert names == ["files__echo", "calculator"]


async def approval_turn(connect, user, fake_upstream):
    fake_upstream.script(
        tool_calls_stream(("files__delete", arguments(text="report.pdf"))),
        text_stream("Done."),
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(tools=["files__delete"]))
    return ws, await until_approval(ws)


async def test_a_call_that_asks_first_runs_once_approved(
    connect, user, fake_upstream, external_tools
):
    ws, asked = await approval_turn(connect, user, fake_upstream)
    assert asked | {"message": 0, "call_id": "", "conversation": 0} == {
        "type": "tool.approval_requested",
        "conversation": 0,
        "message": 0,
        "call_id": "",
        "name": "files__delete",
        "server": "files",
        "remote_name": "delete",
        "arguments": '{"text": "report.pdf"}',
        "seconds": 300,
    }
    assert external_tools.calls == []
    await ws.send_json_to(
        {
            "type": "tool.approve",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "approve": True,
        }
    )
    frames = await until_done(ws)
    settled = by_type(frames, "tool.approval_settled")
    assert settled == [
        {
            "type": "tool.approval_settled",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "answer": "approved",
        }
    ]
    (result,) = by_type(frames, "message.tool_result")
    assert result["message"]["content"] == f"deleted report.pdf {HOSTILE}"
    assert result["message"]["tool_record"]["outcome"] == "ok"
    assert external_tools.calls == [("delete", {"text": "report.pdf"})]


async def test_a_denied_call_is_not_made_and_the_model_reads_why(
    connect, user, fake_upstream, external_tools
):
    ws, asked = await approval_turn(connect, user, fake_upstream)
    await ws.send_json_to(
        {
            "type": "tool.approve",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "approve": False,
        }
    )
    frames = await until_done(ws)
    assert by_type(frames, "tool.approval_settled")[0]["answer"] == "denied"
    (result,) = by_type(frames, "message.tool_result")
    expected = "Error: the user declined this call; it was not made."
    assert result["message"]["content"] == expected
    assert result["message"]["tool_record"]["outcome"] == "declined"
    assert fake_upstream.completions()[1].body["messages"][-1]["content"] == expected
    assert external_tools.calls == []


async def test_an_unanswered_call_is_declined_after_the_approval_timeout(
    connect, user, fake_upstream, external_tools, settings
):
    settings.CHAT_TOOL_APPROVAL_TIMEOUT = 0.3
    ws, asked = await approval_turn(connect, user, fake_upstream)
    assert asked["seconds"] == 0
    frames = await until_done(ws)
    assert by_type(frames, "tool.approval_settled")[0]["answer"] == "expired"
    (result,) = by_type(frames, "message.tool_result")
    assert result["message"]["content"] == (
        "Error: the user did not approve this call in time; it was not made."
    )
    assert external_tools.calls == []


async def test_a_stop_ends_the_wait_for_approval(connect, user, fake_upstream, external_tools):
    ws, asked = await approval_turn(connect, user, fake_upstream)
    await ws.send_json_to({"type": "chat.stop", "conversation": asked["conversation"]})
    frames = await receive_until(ws, "message.completed")
    assert by_type(frames, "tool.approval_settled")[0]["answer"] == "stopped"
    assert frames[-1]["message"]["status"] == "stopped"
    assert lifecycle.local(asked["conversation"]) is None or not (
        lifecycle.local(asked["conversation"]).approvals
    )
    # Approving afterwards changes nothing.
    await ws.send_json_to(
        {
            "type": "tool.approve",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "approve": True,
        }
    )
    await asyncio.sleep(0.2)
    assert external_tools.calls == [] and len(fake_upstream.completions()) == 1


async def test_a_stop_cancels_an_external_call_in_flight(
    connect, user, fake_upstream, external_tools
):
    external_tools.started = asyncio.Event()
    fake_upstream.script(
        tool_calls_stream(("files__slow", arguments(seconds=30))), text_stream("never")
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(tools=["files__slow"]))
    conversation = (await receive_until(ws, "message.tool_call"))[0]["conversation"]
    await asyncio.wait_for(external_tools.started.wait(), 5)
    await ws.send_json_to({"type": "chat.stop", "conversation": conversation})
    frames = await receive_until(ws, "message.completed")
    assert frames[-1]["message"]["error"] == "Stopped while tools were running."
    # Cancelled and awaited: its end came before the turn's (the runner takes 0.3 s).
    assert external_tools.cancelled == ["slow"]
    assert len(fake_upstream.completions()) == 1


async def test_only_the_owner_may_approve(
    connect, user, other_user, fake_upstream, external_tools, settings
):
    settings.CHAT_TOOL_APPROVAL_TIMEOUT = 3
    ws, asked = await approval_turn(connect, user, fake_upstream)
    intruder = await open_socket(connect, other_user)
    await intruder.send_json_to(
        {
            "type": "tool.approve",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "approve": True,
        }
    )
    refused = (await receive_until(intruder, "error"))[-1]
    assert refused["code"] == "not_found"
    assert refused["message"] == "That conversation does not exist."
    frames = await until_done(ws)
    assert by_type(frames, "tool.approval_settled")[0]["answer"] == "expired"
    assert external_tools.calls == []


async def test_a_tab_opened_meanwhile_sees_the_pending_request_and_may_answer(
    connect, user, fake_upstream, external_tools
):
    ws, asked = await approval_turn(connect, user, fake_upstream)
    second = await open_socket(connect, user)
    await second.send_json_to({"type": "conversation.open", "conversation": asked["conversation"]})
    frames = await receive_until(second, "tool.approval_requested")
    assert frames[0]["type"] == "conversation.state"  # The state first, then the request.
    assert frames[-1] | {"seconds": 0} == asked | {"seconds": 0}
    await second.send_json_to(
        {
            "type": "tool.approve",
            "conversation": asked["conversation"],
            "call_id": asked["call_id"],
            "approve": True,
        }
    )
    for tab in (ws, second):
        settled = (await receive_until(tab, "tool.approval_settled"))[-1]
        assert settled["answer"] == "approved"
    await until_done(ws)
    assert external_tools.calls == [("delete", {"text": "report.pdf"})]


async def test_a_call_is_recorded_in_the_database_and_each_tool_call_is_counted(
    connect, user, fake_upstream, external_tools, settings
):
    settings.CHAT_TOOL_CALLS_PER_MINUTE = 1
    fake_upstream.script(
        tool_calls_stream(
            ("files__echo", arguments(text="a")), ("files__echo", arguments(text="b"))
        ),
        text_stream("Done."),
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(tools=["files__echo"]))
    frames = await until_done(ws)
    conversation = frames[0]["conversation"]
    records = await db(tool_records)(conversation)
    assert [r["outcome"] for r in records] == ["ok", "refused"]
    assert [json.loads(r["arguments"]) for r in records] == [{"text": "a"}, {"text": "b"}]
    results = [f["message"]["content"] for f in by_type(frames, "message.tool_result")]
    assert results[1].startswith("Error: That is more than 1 tool calls a minute.")
    await eventually(lambda: lifecycle.local(conversation) is None, what="the turn ended")
