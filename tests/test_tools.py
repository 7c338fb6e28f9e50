"""Tools: schemas from signatures, the built-ins, and every way a call can go wrong."""

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
from tests.test_only_tools import sample_tool, sleepy_tool

CONTEXT = ToolContext(user_id=1, conversation_id=1)


@pytest.fixture(autouse=True)
def test_tools(tool_registry):
    tool_registry(sample_tool, sleepy_tool)


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


def test_convert_units():
    assert convert_units(10, "km", "mi") == "10 km = 6.21371 mi"
    assert convert_units(212, "F", "C") == "212 F = 100 C"
    assert convert_units(1, "GiB", "MB") == "1 GiB = 1073.74 MB"
    with pytest.raises(ValueError, match="cannot convert length"):
        convert_units(1, "km", "kg")
    with pytest.raises(ValueError, match="unknown unit 'parsec'"):
        convert_units(1, "parsec", "km")


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
    services.message_append(
        conversation=mine, role="user", content="Book a tram ride in Lisbon", parent=None
    )
    theirs = services.conversation_create(
        owner=other_user, persona=None, model="m", title="Lisbon secrets"
    )
    services.message_append(
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
    run = registry.run
    assert await run("calculator", '{"expression": "1 + 1"}', context=CONTEXT, timeout=5) == "2"
    assert (await run("nope", "{}", context=CONTEXT, timeout=5)).startswith(
        "Error: unknown tool 'nope'"
    )
    assert (await run("calculator", '{"expression": ', context=CONTEXT, timeout=5)).startswith(
        "Error: the arguments are not valid JSON"
    )
    assert await run("calculator", "{}", context=CONTEXT, timeout=5) == (
        "Error: invalid arguments: missing required argument 'expression'."
    )
    assert await run("calculator", '{"expression": 5}', context=CONTEXT, timeout=5) == (
        "Error: invalid arguments: argument 'expression' must be of type string."
    )
    assert await run(
        "sample_tool", '{"city": "x", "days": 1, "unit": "k"}', context=CONTEXT, timeout=5
    ) == ("Error: invalid arguments: argument 'unit' must be one of ['c', 'f'].")
    assert await run("calculator", '{"expression": "1/0"}', context=CONTEXT, timeout=5) == (
        "Error: ZeroDivisionError: division by zero"
    )
    assert await run("sleepy_tool", '{"seconds": 1}', context=CONTEXT, timeout=0.1) == (
        "Error: the tool took longer than 0.1 s."
    )
