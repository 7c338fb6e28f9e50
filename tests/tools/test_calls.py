"""One tool call, built-in or external: refusals, argument checks against the tool's JSON
Schema, bounds, timeouts, approval, the rate limit, a stop, and the record of each."""

import asyncio
import json

import pytest

from conversations.tools import calls, external, registry, workers
from tests.tools.external_for_tests import arguments

CONTEXT = registry.ToolContext(user_id=7, conversation_id=1)


async def call(source, name, args="{}", *, offered=None, approve=None, timeout=5.0, user=7):
    tools = external.for_user(user)
    return await calls.call(
        name,
        args,
        context=registry.ToolContext(user_id=user, conversation_id=1),
        timeout=timeout,
        offered=[name] if offered is None else offered,
        external=tools,
        approve=approve,
    )


async def test_an_external_call_runs_and_is_recorded(external_tools):
    result = await call(external_tools, "files__echo", arguments(text="hi"))
    assert result.text == "echo: hi"
    record = result.record
    assert record == {
        "source": "mcp",
        "server": "files",
        "tool": "files__echo",
        "remote_name": "echo",
        "arguments": '{"text": "hi"}',
        "duration_ms": record["duration_ms"],
        "outcome": "ok",
    }
    assert external_tools.calls == [("echo", {"text": "hi"})]


async def test_a_tool_not_offered_or_gone_or_never_allowed_is_refused(external_tools):
    not_offered = await call(external_tools, "files__echo", arguments(text="a"), offered=[])
    assert not_offered.text == "Error: tool 'files__echo' was not offered. No tools were offered."
    assert not_offered.record["outcome"] == "refused"
    external_tools.removed.add("files__echo")  # Listed when planned, removed before the call.
    gone = await call(external_tools, "files__echo", arguments(text="a"))
    assert gone.text == "Error: tool 'files__echo' is no longer available."
    assert gone.record["outcome"] == "refused"
    external_tools.allowed["files__fail"] = {99}  # Another user's only.
    mine = await call(external_tools, "files__fail", "{}")
    assert mine.record["outcome"] == "refused" and "no longer available" in mine.text
    unknown = await call(external_tools, "nowhere__tool", "{}")
    assert unknown.text == "Error: tool 'nowhere__tool' is no longer available."
    assert external_tools.calls == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("{}", "Error: invalid arguments: 'text' is a required property."),
        ('{"text": 3}', "Error: invalid arguments at text: 3 is not of type 'string'."),
        ('{"text": "a", "x": 1}', "Error: invalid arguments: Additional properties are not"),
        (json.dumps({"text": "a" * 51}), "Error: invalid arguments at text: "),
        ("{not json", "Error: the arguments are not valid JSON ("),
        ("[1]", "Error: invalid arguments: arguments must be a JSON object."),
        ("[" * 40 + "]" * 40, "Error: the arguments are nested more than 32 levels deep."),
        ("[" * 5000 + "]" * 5000, "Error: the arguments are nested"),
        (json.dumps({"text": "a" * 70_000}), "Error: the arguments are longer than 65,536"),
    ],
)
async def test_arguments_are_checked_against_the_tools_schema(external_tools, args, problem):
    result = await call(external_tools, "files__echo", args)
    assert result.text.startswith(problem), result.text
    assert result.record["outcome"] == "error"
    assert external_tools.calls == []


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "object", "properties": {"a": {"type": "no-such-type"}}}, "not a valid JSON"),
        ({"type": "object", "description": "d" * 70_000}, "too large or deep"),
        ({"type": "object", "$ref": "https://example.invalid/schema.json"}, "could not be checked"),
    ],
)
def test_a_schema_too_large_broken_or_remote_is_never_trusted(schema, problem):
    _parsed, error = calls.parse_arguments("{}", schema)
    assert problem in error


async def test_a_result_too_large_is_cut_with_a_note(external_tools):
    result = await call(external_tools, "files__huge", arguments(text="a"))
    assert len(result.text) < workers.MAX_RESULT_CHARS + 100
    assert result.text.endswith("[truncated: the result was longer]")
    assert result.record["outcome"] == "truncated"


async def test_failures_are_error_results(external_tools):
    failed = await call(external_tools, "files__fail", arguments(text="a"))
    assert failed.text == "Error: the server said no." and failed.record["outcome"] == "error"
    broken = await call(external_tools, "files__broken", arguments(text="a"))
    assert broken.text == "Error: the tool failed (RuntimeError)."
    assert broken.record["outcome"] == "error"


async def test_a_call_past_its_timeout_is_cancelled(external_tools, monkeypatch):
    monkeypatch.setattr(calls, "RUNNER_GRACE", 0.1)
    result = await call(external_tools, "files__hang", "{}", timeout=0.2)
    assert result.text == "Error: the tool took longer than 0.2 s."
    assert result.record["outcome"] == "timeout"
    assert external_tools.cancelled == ["hang"]  # Cancelled and awaited, not left running.


async def test_a_stop_cancels_the_call_in_flight(external_tools):
    external_tools.started = asyncio.Event()
    task = asyncio.ensure_future(call(external_tools, "files__slow", arguments(seconds=30)))
    await asyncio.wait_for(external_tools.started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert external_tools.cancelled == ["slow"]


async def test_a_tool_that_asks_first_runs_only_when_approved(external_tools):
    asked = []

    def answering(answer):
        async def approve(tool, args):
            asked.append((tool.name, args))
            return answer

        return approve

    denied = await call(
        external_tools, "files__delete", arguments(text="a"), approve=answering("denied")
    )
    assert denied.text == "Error: the user declined this call; it was not made."
    assert denied.record["outcome"] == "declined"
    expired = await call(
        external_tools, "files__delete", arguments(text="a"), approve=answering("expired")
    )
    assert expired.text == "Error: the user did not approve this call in time; it was not made."
    assert expired.record["outcome"] == "declined"
    nobody = await call(external_tools, "files__delete", arguments(text="a"))  # No one to ask.
    assert nobody.record["outcome"] == "declined"
    assert external_tools.calls == []
    approved = await call(
        external_tools, "files__delete", arguments(text="a"), approve=answering("approved")
    )
    assert approved.text.startswith("deleted a") and approved.record["outcome"] == "ok"
    assert asked == [("files__delete", '{"text": "a"}')] * 3
    # Invalid arguments are refused before the user is asked.
    await call(external_tools, "files__delete", "{}", approve=answering("approved"))
    assert len(asked) == 3


async def test_tool_calls_per_user_are_rate_limited(external_tools, settings):
    settings.CHAT_TOOL_CALLS_PER_MINUTE = 2
    for _ in range(2):
        assert (await call(external_tools, "files__echo", arguments(text="a"))).record[
            "outcome"
        ] == "ok"
    over = await call(external_tools, "files__echo", arguments(text="a"))
    assert over.text.startswith("Error: That is more than 2 tool calls a minute. Try again in ")
    assert over.text.endswith("The call was not made.")
    assert over.record["outcome"] == "refused" and len(external_tools.calls) == 2
    other = await call(external_tools, "files__echo", arguments(text="a"), user=8)
    assert other.record["outcome"] == "ok"  # Per user.


async def test_a_builtin_call_is_recorded_too(tool_registry):
    def shout(text: str) -> str:
        """Shout."""
        return text.upper()

    tool_registry(shout, isolated=False)
    result = await calls.call(
        "shout", '{"text": "hey"}', context=CONTEXT, timeout=5, offered=["shout"], external={}
    )
    assert result.text == "HEY"
    assert result.record | {"duration_ms": 0} == {
        "source": "builtin",
        "server": None,
        "tool": "shout",
        "remote_name": "shout",
        "arguments": '{"text": "hey"}',
        "duration_ms": 0,
        "outcome": "ok",
    }
