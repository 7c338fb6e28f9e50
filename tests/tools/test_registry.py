"""Tools: schemas from signatures, the built-ins, and every way a call can go wrong."""

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from conversations import services
from conversations.tools import registry
from conversations.tools.builtin import (
    calculator,
    convert_units,
    current_datetime,
    search_conversations,
)
from conversations.tools.registry import ToolContext
from tests import factories
from tests.live_server import live_server
from tests.tools.tools_for_tests import (
    exiting_tool,
    hog_tool,
    raising_tool,
    sample_tool,
    sleepy_tool,
)

CONTEXT = ToolContext(user_id=1, conversation_id=1)


@pytest.fixture(autouse=True)
def test_tools(tool_registry):
    tool_registry(sample_tool, sleepy_tool, raising_tool, hog_tool, exiting_tool)


async def run(name: str, arguments: str, *, timeout: float = 5, offered=None) -> str:
    """registry.run with everything offered unless the test says otherwise."""
    offered = registry.REGISTRY if offered is None else offered
    return await registry.run(name, arguments, context=CONTEXT, timeout=timeout, offered=offered)


def test_schema_from_signature_and_docstring():
    spec = registry.REGISTRY["sample_tool"].spec()
    assert spec.name == "sample_tool"
    assert spec.description == "Describe the weather."
    assert spec.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": 'Where, e.g. "Paris".'},
            "days": {"type": "integer", "description": "How many days ahead to look."},
            "unit": {"type": "string", "enum": ["c", "f"], "description": "Temperature unit."},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["city", "days"],
    }


def test_context_parameter_is_hidden_from_the_model():
    spec = registry.REGISTRY["search_conversations"]
    assert "context" not in spec.parameters["properties"]
    assert spec.context_param == "context"


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 * (3 + 4) ** 2 / sqrt(16)", "24.5"),
        ("7 // 2 + 7 % 2", "4"),
        ("round(pi, 3)", "3.142"),
        ("-2 ** 2", "-4"),
    ],
)
def test_calculator(expression, result):
    assert calculator(expression) == result


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "(1).__class__",
        "9 ** 99999",
        "x + 1",
        "[1, 2]",
    ],
)
def test_calculator_refuses_anything_but_arithmetic(expression):
    with pytest.raises(ValueError):
        calculator(expression)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        # Each of these ran for minutes (or hours) inside one C call, holding the GIL.
        ("((9**999)**999)**16", "too large"),
        ("((9**999)**999)**64", "too large"),
        ("(7**99)**(7**9)", "too large"),
        ("2**5000 * 2**5000 * 2**5000", "too large"),
        ("factorial(100000)", "factorial"),
        ("factorial(factorial(20))", "factorial"),
        ("round(1, -10**8)", "round"),
        ("-" * 300 + "1", "nested"),
        ("abs(" * 60 + "1" + ")" * 60, "nested"),
        ("(" * 201 + "1" + ")" * 201, "nested"),
        ("1" * 501, "too long"),
        ("(-8) ** (1/3)", "not a real number"),
    ],
)
def test_calculator_bounds_the_work_an_expression_may_ask_for(expression, problem):
    with pytest.raises(ValueError, match=problem):
        calculator(expression)


def test_calculator_still_does_exact_big_arithmetic():
    assert calculator("2 ** 1000") == str(2**1000)
    assert calculator("factorial(100)") == str(__import__("math").factorial(100))
    assert calculator("9 ** 999 % 1000") == str(9**999 % 1000)
    assert calculator("2 ** -2") == "0.25"
    assert calculator("1 ** (10 ** 9)") == "1"


def test_convert_units():
    assert convert_units(10, "km", "mi") == "10 km = 6.21371 mi"
    assert convert_units(212, "F", "C") == "212 F = 100 C"
    assert convert_units(1, "GiB", "MB") == "1 GiB = 1073.74 MB"
    with pytest.raises(ValueError, match="cannot convert length"):
        convert_units(1, "km", "kg")
    with pytest.raises(ValueError, match="unknown unit 'parsec'"):
        convert_units(1, "parsec", "km")


@pytest.mark.parametrize(
    ("source", "target", "problem"),
    [
        ("C", "km", r"cannot convert temperature \(C\) to length \(km\)"),
        ("km", "F", r"cannot convert length \(km\) to temperature \(F\)"),
        ("K", "parsec", "unknown unit 'parsec'"),
    ],
)
def test_convert_units_between_temperature_and_other_kinds_is_a_clear_error(
    source, target, problem
):
    # °C to km once raised StopIteration inside the runner's thread: a 10 s hang, then
    # a false timeout.
    with pytest.raises(ValueError, match=problem):
        convert_units(1, source, target)


def test_current_datetime():
    assert "(" in current_datetime("Asia/Tokyo") and current_datetime("Asia/Tokyo").endswith(
        "Asia/Tokyo)"
    )
    assert "+09:00" in current_datetime("Asia/Tokyo")
    with pytest.raises(ValueError, match="unknown timezone"):
        current_datetime("Mars/Olympus")


@pytest.mark.django_db
def test_search_conversations_sees_only_the_callers_own(user, other_user):
    mine = services.conversation_create(owner=user, persona=None, model="m", title="Trip to Lisbon")
    factories.message_append(
        conversation=mine, role="user", content="Book a tram ride in Lisbon", parent=None
    )
    theirs = services.conversation_create(
        owner=other_user, persona=None, model="m", title="Lisbon secrets"
    )
    factories.message_append(
        conversation=theirs, role="user", content="My Lisbon password", parent=None
    )
    current = services.conversation_create(owner=user, persona=None, model="m", title="Now")

    result = search_conversations("lisbon", ToolContext(user.pk, current.pk))
    assert f"#{mine.pk}" in result and "tram ride" in result
    assert "secrets" not in result and "password" not in result
    assert search_conversations("nothing-like-this", ToolContext(user.pk, current.pk)).startswith(
        "No conversations"
    )


async def test_run_turns_every_failure_into_an_error_result():
    assert await run("calculator", '{"expression": "1 + 1"}') == "2"
    assert await run("nope", "{}", offered=["nope"]) == "Error: unknown tool 'nope'."
    assert (await run("calculator", '{"expression": ')).startswith(
        "Error: the arguments are not valid JSON"
    )
    assert await run("calculator", "{}") == (
        "Error: invalid arguments: missing required argument 'expression'."
    )
    deep = "[" * 100_000 + "]" * 100_000
    assert await run("calculator", deep) == "Error: the arguments are nested too deeply to read."
    assert await run("calculator", '{"expression": 5}') == (
        "Error: invalid arguments: argument 'expression' must be of type string."
    )
    assert await run("sample_tool", '{"city": "x", "days": 1, "unit": "k"}') == (
        "Error: invalid arguments: argument 'unit' must be one of ['c', 'f']."
    )
    assert await run("calculator", '{"expression": "1/0"}') == (
        "Error: ZeroDivisionError: division by zero"
    )
    assert await run("sleepy_tool", '{"seconds": 1}', timeout=0.1) == (
        "Error: the tool took longer than 0.1 s."
    )


async def test_only_offered_tools_run():
    assert await run("calculator", '{"expression": "1"}', offered=[]) == (
        "Error: tool 'calculator' was not offered. No tools were offered."
    )
    assert await run(
        "search_conversations", '{"query": "x"}', offered=["calculator", "convert_units"]
    ) == (
        "Error: tool 'search_conversations' was not offered. "
        "Offered tools: calculator, convert_units."
    )
    assert await run("calculator", '{"expression": "6*7"}', offered=["calculator"]) == "42"


@pytest.mark.parametrize(
    "kind", ["StopIteration", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException"]
)
@pytest.mark.parametrize("isolated", [True, False], ids=["worker process", "thread"])
async def test_any_exception_a_tool_raises_is_its_result_at_once(tool_registry, kind, isolated):
    # A StopIteration cannot cross into an asyncio future: it used to hang the call until
    # its timeout, then report a timeout that never happened.
    tool_registry(raising_tool, isolated=isolated)
    result = await run("raising_tool", f'{{"kind": "{kind}"}}', timeout=30)
    name = "_Unusual" if kind == "BaseException" else kind
    assert result == f"Error: {name}: raised on purpose"


async def test_a_runaway_tool_is_killed_at_its_timeout_and_the_next_call_works(tmp_path):
    pid_file = tmp_path / "pid"
    result = await run("hog_tool", json.dumps({"pid_file": str(pid_file)}), timeout=1.5)
    assert result == "Error: the tool took longer than 1.5 s."
    pid = int(pid_file.read_text())
    assert pid != os.getpid()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # Polling for the kill, with a deadline.
    assert not Path(f"/proc/{pid}").exists(), "the runaway worker is still running"
    assert await run("calculator", '{"expression": "2 + 2"}') == "4"
    assert await run("sleepy_tool", '{"seconds": 0.01}') == "awake"


async def test_a_tool_whose_process_dies_is_an_error_and_the_next_call_works():
    assert await run("exiting_tool", '{"code": 3}') == (
        "Error: the tool's process ended unexpectedly (exit code 3)."
    )
    assert await run("calculator", '{"expression": "3 * 3"}') == "9"


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # Gone meanwhile.
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_server_starts_its_tool_workers_before_any_tool_is_called(tmp_path):
    """A server's first tool call finds its workers running, rather than waiting for the
    fork server's fresh interpreter (seconds on a busy machine)."""
    with live_server(tmp_path, CHAT_TOOL_WORKERS="2") as server:
        deadline = time.monotonic() + 60
        while True:
            fork_servers = [
                pid for pid in _children(server.process.pid) if b"forkserver" in _command(pid)
            ]
            workers = [pid for fork_server in fork_servers for pid in _children(fork_server)]
            if len(fork_servers) == 1 and len(workers) == 2:
                break
            assert time.monotonic() < deadline, f"no tool workers: {fork_servers}, {workers}"
            time.sleep(0.1)  # Polling for the workers, with a deadline.
