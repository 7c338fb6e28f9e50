"""Tool calling end to end: fake upstream streams tool calls, our tools run, the model answers."""

import asyncio
import itertools
import json
import os
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async as db

from conversations import services
from conversations.catalog.models import ModelInfo
from conversations.chat import generation
from conversations.models import Message
from conversations.personas import services as persona_services
from conversations.personas.models import Persona
from tests.fake_upstream import chunk, error_reply, sse, text_stream, tool_calls_stream
from tests.helpers import by_type, open_socket, receive_until, send_frame
from tests.tools.tools_for_tests import hog_tool, sleepy_tool

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

CALC = ["calculator"]


async def turn(ws, timeout=5, **frame) -> list[dict]:
    """Send a message; collect frames until the turn's last reply completes."""
    await ws.send_json_to(send_frame(**frame))
    frames = []
    while True:
        frames += await receive_until(ws, "message.completed", timeout=timeout)
        message = frames[-1]["message"]
        if not message["tool_calls"] or message["status"] != "complete":
            return frames


def saved_tree(conversation_id):
    return list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("id")
        .values(
            "id",
            "parent_id",
            "role",
            "content",
            "status",
            "tool_calls",
            "tool_call_id",
            "tool_name",
        )
    )


async def test_fragmented_tool_call_runs_and_the_model_answers(connect, user, fake_upstream):
    fake_upstream.script(
        tool_calls_stream(("calculator", '{"expression": "6 * 7"}'), split=4),
        text_stream("It is ", "42."),
    )
    ws = await open_socket(connect, user)
    frames = await turn(ws, content="What is 6*7?", tools=CALC)
    conversation_id = frames[0]["conversation"]

    first_request, second_request = (r.body for r in fake_upstream.completions())
    assert first_request["tools"][0]["function"]["name"] == "calculator"
    assert first_request["tool_choice"] == "auto"

    calls = by_type(frames, "message.tool_call")
    assert [c["tool_call"]["name"] for c in calls] == ["calculator"]
    assert json.loads(calls[0]["tool_call"]["arguments"]) == {"expression": "6 * 7"}
    results = by_type(frames, "message.tool_result")
    assert [r["message"]["content"] for r in results] == ["42"]
    assert results[0]["message"]["tool_call_id"] == calls[0]["tool_call"]["id"] == "call_0"
    assert frames[-1]["message"]["content"] == "It is 42."

    tree = await db(saved_tree)(conversation_id)
    user_msg, asked, result, answer = tree
    assert asked["parent_id"] == user_msg["id"] and asked["tool_calls"][0]["name"] == "calculator"
    assert (
        result["parent_id"] == asked["id"]
        and result["role"] == "tool"
        and result["tool_name"] == "calculator"
    )
    assert answer["parent_id"] == result["id"] and answer["status"] == "complete"

    assert second_request["messages"][-2:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "6 * 7"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "42"},
    ]


async def test_parallel_calls_without_index_or_id(connect, user, fake_upstream):
    events = [
        chunk(
            {
                "tool_calls": [
                    {"function": {"name": "calculator", "arguments": '{"expression": "1+1"}'}}
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {
                        "function": {
                            "name": "convert_units",
                            "arguments": '{"value": 1, "from_unit": "km", "to_unit": "m"}',
                        }
                    }
                ]
            }
        ),
        chunk(finish="tool_calls"),
    ]
    fake_upstream.script(sse(*events), text_stream("Done."))
    ws = await open_socket(connect, user)
    frames = await turn(ws, tools=["calculator", "convert_units"])
    results = [r["message"] for r in by_type(frames, "message.tool_result")]
    assert [r["content"] for r in results] == ["2", "1 km = 1000 m"]
    ids = [c["tool_call"]["id"] for c in by_type(frames, "message.tool_call")]
    assert len(set(ids)) == 2 and [r["tool_call_id"] for r in results] == ids
    second = fake_upstream.completions()[1].body["messages"]
    assert [m["role"] for m in second[-3:]] == ["assistant", "tool", "tool"]
    assert [m["tool_call_id"] for m in second[-2:]] == ids


async def test_unknown_tool_bad_json_and_a_raising_tool_become_error_results(
    connect, user, fake_upstream
):
    fake_upstream.script(
        tool_calls_stream(
            ("teleport", "{}"),
            ("calculator", '{"expression": '),
            ("calculator", '{"expression": "1/0"}'),
            ("calculator", '{"expr": "1"}'),
        ),
        text_stream("Sorry."),
    )
    ws = await open_socket(connect, user)
    frames = await turn(ws, tools=CALC)
    results = [r["message"]["content"] for r in by_type(frames, "message.tool_result")]
    assert results[0] == "Error: tool 'teleport' was not offered. Offered tools: calculator."
    assert results[1].startswith("Error: the arguments are not valid JSON")
    assert results[2] == "Error: ZeroDivisionError: division by zero"
    assert results[3] == "Error: invalid arguments: missing required argument 'expression'."
    assert frames[-1]["message"]["status"] == "complete"


async def test_a_loop_that_never_ends_is_cut_off(connect, user, fake_upstream, settings):
    settings.CHAT_MAX_TOOL_ROUNDS = 3
    fake_upstream.script(
        *[tool_calls_stream(("calculator", '{"expression": "1"}')) for _ in range(10)]
    )
    ws = await open_socket(connect, user)
    frames = await turn(ws, tools=CALC)
    last = frames[-1]["message"]
    assert last["status"] == "stopped"
    assert last["error"] == "Stopped after 3 rounds of tool calls without a final answer."
    assert len(fake_upstream.completions()) == 3
    assert len(by_type(frames, "message.tool_result")) == 3


@pytest.mark.parametrize(
    ("frame", "wire_choice"),
    [
        ({"tools": CALC}, "auto"),
        ({"tools": CALC, "tool_choice": "none"}, "none"),
        ({"tools": CALC, "tool_choice": "required"}, "required"),
        (
            {"tools": CALC, "tool_choice": "calculator"},
            {"type": "function", "function": {"name": "calculator"}},
        ),
        (
            {"tool_choice": "current_datetime"},
            {"type": "function", "function": {"name": "current_datetime"}},
        ),
    ],
)
async def test_tool_choice_is_always_sent_explicitly(
    connect, user, fake_upstream, frame, wire_choice
):
    fake_upstream.script(text_stream("ok"))
    ws = await open_socket(connect, user)
    await turn(ws, **frame)
    body = fake_upstream.completions()[0].body
    assert body["tool_choice"] == wire_choice
    assert [t["function"]["name"] for t in body["tools"]] == frame.get(
        "tools", [frame.get("tool_choice")]
    )


async def test_no_tools_means_no_tools_and_no_tool_choice(connect, user, fake_upstream):
    fake_upstream.script(text_stream("ok"))
    ws = await open_socket(connect, user)
    await turn(ws)
    body = fake_upstream.completions()[0].body
    assert "tools" not in body and "tool_choice" not in body


async def test_persona_tools_apply_unless_the_message_overrides(connect, user, fake_upstream):
    persona = await db(Persona.objects.create)(
        name="Helper",
        system_prompt="Use tools.",
        tools=["convert_units"],
        tool_choice="required",
        owner=user,
    )
    fake_upstream.script(text_stream("a"), text_stream("b"))
    ws = await open_socket(connect, user)
    frames = await turn(ws, persona=persona.pk)
    first = fake_upstream.completions()[0].body
    assert [t["function"]["name"] for t in first["tools"]] == ["convert_units"]
    assert first["tool_choice"] == "required"
    await turn(
        ws, client_id="c2", conversation=frames[0]["conversation"], tools=[], tool_choice="auto"
    )
    second = fake_upstream.completions()[1].body
    assert "tools" not in second


async def test_tool_calls_are_ignored_when_tool_choice_is_none(connect, user, fake_upstream):
    fake_upstream.script(tool_calls_stream(("calculator", '{"expression": "2"}')))
    ws = await open_socket(connect, user)
    frames = await turn(ws, tools=CALC, tool_choice="none")
    assert not by_type(frames, "message.tool_result")
    assert frames[-1]["message"]["tool_calls"] == []
    assert len(fake_upstream.completions()) == 1


async def test_server_that_refuses_streaming_tools_is_asked_without_streaming(
    connect, user, fake_upstream
):
    whole = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {
                                "name": "calculator",
                                "arguments": '{"expression": "3*3"}',
                            },
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5},
    }
    fake_upstream.script(
        error_reply(
            400, {"object": "error", "message": "Tool calling is not supported with stream=True"}
        ),
        error_reply(200, whole),
        text_stream("Nine."),
    )
    ws = await open_socket(connect, user)
    frames = await turn(ws, tools=CALC)
    requests = [r.body for r in fake_upstream.completions()]
    assert [r["stream"] for r in requests] == [True, False, True]
    assert [r["message"]["content"] for r in by_type(frames, "message.tool_result")] == ["9"]
    assert frames[-1]["message"]["content"] == "Nine."


async def test_stop_while_a_tool_runs(connect, user, fake_upstream, settings, tool_registry):
    tool_registry(sleepy_tool)
    # The tool would run far longer than the stop takes to arrive, even on a loaded
    # machine (with 1.5 s, a stop that came late met the next reply instead); the stop
    # kills its worker, so the test does not wait for it.
    settings.CHAT_TOOL_TIMEOUT = 60
    fake_upstream.script(
        tool_calls_stream(("sleepy_tool", '{"seconds": 30}')), text_stream("never")
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(tools=["sleepy_tool"]))
    frames = await receive_until(ws, "message.tool_call")
    conversation_id = frames[0]["conversation"]
    await ws.send_json_to({"type": "chat.stop", "conversation": conversation_id})
    frames = await receive_until(ws, "message.completed")
    assert frames[-1]["message"]["status"] == "stopped"
    assert frames[-1]["message"]["error"] == "Stopped while tools were running."
    assert len(fake_upstream.completions()) == 1


async def test_each_reply_records_what_was_sent_and_persona_edits_keep_history(
    connect, user, fake_upstream
):
    persona = await db(Persona.objects.create)(
        name="Tutor",
        system_prompt="Teach gently.",
        temperature=0.5,
        owner=user,
        tools=["calculator"],
    )
    fake_upstream.script(text_stream("first"), text_stream("second"))
    ws = await open_socket(connect, user)
    frames = await turn(ws, persona=persona.pk)
    conversation_id = frames[0]["conversation"]
    first = frames[-1]["message"]
    record = first["request"]
    user_id = by_type(frames, "message.created")[0]["message"]["id"]
    assert record["persona"] == {"id": persona.pk, "name": "Tutor", "version": 1}
    assert record["system_prompt"] == "Teach gently."
    assert record["model"] == "test-model" and record["params"] == {"temperature": 0.5}
    assert record["tools"] == ["calculator"] and record["tool_choice"] == "auto"
    assert record["sent"] == [user_id] and record["left_out"] == []

    await db(persona_services.persona_update)(persona=persona, system_prompt="Teach strictly.")
    frames = await turn(ws, client_id="c2", conversation=conversation_id)
    second = frames[-1]["message"]["request"]
    assert second["persona"]["version"] == 2 and second["system_prompt"] == "Teach strictly."
    saved_first = await db(Message.objects.get)(pk=first["id"])
    assert saved_first.request == record  # History is never rewritten.
    assert fake_upstream.completions()[1].body["messages"][0] == {
        "role": "system",
        "content": "Teach strictly.",
    }


async def test_tools_are_not_offered_to_a_model_that_cannot_call_them(connect, user, fake_upstream):
    await db(ModelInfo.objects.create)(model_id="test-model", supports_tools=False)
    fake_upstream.script(text_stream("plain"))
    ws = await open_socket(connect, user)
    frames = await turn(ws, tools=CALC)
    assert "tools" not in fake_upstream.completions()[0].body
    record = frames[-1]["message"]["request"]
    assert record["tools"] == [] and record["tools_unsupported"] == ["calculator"]


async def test_a_tool_that_was_not_offered_never_runs(connect, user, fake_upstream):
    mine = await db(services.conversation_create)(
        owner=user, persona=None, model="m", title="Lisbon secrets"
    )
    fake_upstream.script(
        tool_calls_stream(("search_conversations", '{"query": "lisbon"}')),
        text_stream("Sorry."),
    )
    ws = await open_socket(connect, user)
    frames = await turn(ws)  # No tools offered.
    assert "tools" not in fake_upstream.completions()[0].body
    (result,) = [r["message"] for r in by_type(frames, "message.tool_result")]
    expected = "Error: tool 'search_conversations' was not offered. No tools were offered."
    assert result["content"] == expected and f"#{mine.pk}" not in result["content"]
    saved = await db(saved_tree)(frames[0]["conversation"])
    assert [m["content"] for m in saved if m["role"] == "tool"] == [expected]
    # The model reads why: the refusal is what goes back upstream.
    assert fake_upstream.completions()[1].body["messages"][-1]["content"] == expected


async def delta_times(ws) -> tuple[list[float], dict]:
    """When each delta of the reply streaming on this socket arrived, and the reply."""
    loop = asyncio.get_running_loop()
    times = []
    while True:
        frame = await ws.receive_json_from(timeout=60)
        if frame["type"] == "message.delta":
            times.append(loop.time())
        elif frame["type"] == "message.completed" and frame["message"]["role"] == "assistant":
            assert frame["message"]["status"] == "complete"
            return times, frame["message"]


def saved_at(message_id: int):
    message = Message.objects.get(pk=message_id)
    return message.created_at, message.updated_at


async def pauses_while_a_tool_runs(connect, alice, bob, tools: list[str]) -> tuple[float, dict]:
    """Bob's reply streams while Alice's turn runs a tool; return Bob's longest pause
    between deltas, and Alice's tool result."""
    bob_ws = await open_socket(connect, bob)
    alice_ws = await open_socket(connect, alice)
    await bob_ws.send_json_to(send_frame(content="Tell me a long story", client_id="b1"))
    await receive_until(bob_ws, "message.delta")
    streaming_since = asyncio.get_running_loop().time()
    await alice_ws.send_json_to(send_frame(content="Run it", tools=tools))
    times, story = await delta_times(bob_ws)  # Alice's frames wait in her socket's queue.
    times.insert(0, streaming_since)
    frames = await receive_until(alice_ws, "message.tool_result", timeout=60)
    await receive_until(alice_ws, "message.completed", timeout=30)  # Her turn's last reply.
    result = frames[-1]["message"]
    tool_done, _ = await db(saved_at)(result["id"])
    _, story_done = await db(saved_at)(story["id"])
    assert tool_done < story_done, "Bob's reply should still be streaming when the tool ends"
    return max(b - a for a, b in itertools.pairwise(times)), result


LONG_STORY = text_stream(*[f"word{i} " for i in range(300)], delay=0.01)


async def test_a_hostile_calculation_never_pauses_another_users_reply(
    connect, user, other_user, fake_upstream, settings
):
    # ((9**999)**999)**16 once ran inside single C calls for 20 s, holding the GIL: every
    # other user's reply froze until it finished, long after the tool's "timeout".
    settings.CHAT_TOOL_TIMEOUT = 5
    hostile = json.dumps({"expression": "((9**999)**999)**16"})
    fake_upstream.script(
        LONG_STORY, tool_calls_stream(("calculator", hostile)), text_stream("Too big.")
    )
    pause, result = await pauses_while_a_tool_runs(connect, user, other_user, CALC)
    assert pause < 0.2, f"the other reply paused for {pause:.3f} s"
    assert result["content"] == "Error: ValueError: result too large (over 10,000 bits)"


async def test_a_runaway_tool_never_pauses_another_users_reply_and_is_killed(
    connect, user, other_user, fake_upstream, settings, tool_registry, tmp_path
):
    tool_registry(hog_tool)  # One C call of about a minute, holding the GIL where it runs.
    settings.CHAT_TOOL_TIMEOUT = 2
    pid_file = tmp_path / "pid"
    fake_upstream.script(
        LONG_STORY,
        tool_calls_stream(("hog_tool", json.dumps({"pid_file": str(pid_file)}))),
        text_stream("It gave up."),
    )
    pause, result = await pauses_while_a_tool_runs(connect, user, other_user, ["hog_tool"])
    assert pause < 0.2, f"the other reply paused for {pause:.3f} s"
    assert result["content"] == "Error: the tool took longer than 2 s."
    assert int(pid_file.read_text()) != os.getpid()  # It ran in a worker process.


async def test_a_stop_ends_a_call_that_swallowed_its_cancellation():
    # On Python 3.11, asyncio.wait_for swallows a cancellation that comes as its awaitable
    # ends, and redis-py sends each command under one: a stop that met the tool-call rate
    # limit's Redis round trip was lost, and the tool ran on to its timeout.
    ended = asyncio.Event()

    async def swallows_one_cancellation() -> str:
        try:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                pass  # What wait_for does when its awaitable ends with the cancellation.
            await asyncio.sleep(60)  # The tool call itself.
            return "ran to the end"
        finally:
            ended.set()

    turn = SimpleNamespace(stop_requested=False, stopping=asyncio.Event())
    stopped = asyncio.create_task(generation._unless_stopped(turn, swallows_one_cancellation()))
    await asyncio.sleep(0.05)
    turn.stop_requested = True
    turn.stopping.set()
    assert await stopped is None
    assert ended.is_set()
