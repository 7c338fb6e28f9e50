"""Tools as plain typed functions: a JSON schema from the signature, safe calls, "Error: …" results.

A tool is registered with `@tool` (see builtin.py); a parameter annotated `ToolContext`
is filled in by the app (who is asking) and never shown to the model.
"""

import asyncio
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from ..llm import ToolSpec

REGISTRY: dict[str, "Tool"] = {}
MAX_RESULT_CHARS = 20_000

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@dataclass(frozen=True)
class ToolContext:
    """Who a tool runs for."""

    user_id: int
    conversation_id: int


@dataclass(frozen=True)
class Tool:
    """A registered tool: its function, name, description and parameter schema."""

    name: str
    description: str
    parameters: dict
    function: Callable
    context_param: str | None

    def spec(self) -> ToolSpec:
        """The tool as a request offers it."""
        return ToolSpec(self.name, self.description, self.parameters)


def tool(function: Callable) -> Callable:
    """Register a function as a tool; its signature and docstring say how to call it."""
    registered = build_tool(function)
    REGISTRY[registered.name] = registered
    return function


def build_tool(function: Callable) -> Tool:
    """A Tool for a function, from its signature and docstring, without registering it."""
    summary, arg_docs = _parse_docstring(inspect.getdoc(function) or "")
    hints = typing.get_type_hints(function)
    properties, required, context_param = {}, [], None
    for name, param in inspect.signature(function).parameters.items():
        hint = hints.get(name, str)
        if hint is ToolContext:
            context_param = name
            continue
        schema = _schema_for(hint)
        if name in arg_docs:
            schema["description"] = arg_docs[name]
        properties[name] = schema
        if param.default is inspect.Parameter.empty:
            required.append(name)
    parameters = {"type": "object", "properties": properties, "required": required}
    return Tool(function.__name__, summary, parameters, function, context_param)


def _schema_for(hint) -> dict:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        values = list(typing.get_args(hint))
        return {"type": _JSON_TYPES[type(values[0])], "enum": values}
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _schema_for(inner[0])
    if origin is list:
        (item,) = typing.get_args(hint) or (str,)
        return {"type": "array", "items": _schema_for(item)}
    if hint in _JSON_TYPES:
        return {"type": _JSON_TYPES[hint]}
    raise TypeError(f"Tool parameters must be str, int, float, bool, Literal or list: {hint!r}")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The description (text before "Args:") and each argument's text, continuations joined."""
    head, _, args = doc.partition("Args:")
    arg_docs: dict[str, str] = {}
    current, indent = None, None
    for line in args.splitlines():
        depth = len(line) - len(line.lstrip())
        match = re.match(r"^\s*(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if match and (indent is None or depth <= indent):
            current, indent = match.group(1), depth
            arg_docs[current] = match.group(2).strip()
        elif current and line.strip():
            arg_docs[current] += " " + line.strip()
    return " ".join(head.split()), arg_docs


def specs(names: list[str]) -> list[ToolSpec]:
    """What a request offers for these tool names (unknown names are skipped)."""
    return [REGISTRY[name].spec() for name in names if name in REGISTRY]


def check_arguments(spec: dict, arguments: object) -> str | None:
    """What is wrong with the arguments for this schema, or None."""
    if not isinstance(arguments, dict):
        return "arguments must be a JSON object"
    properties = spec["properties"]
    for name in spec["required"]:
        if name not in arguments:
            return f"missing required argument '{name}'"
    for name, value in arguments.items():
        if name not in properties:
            return f"unknown argument '{name}'"
        problem = _check_value(properties[name], value)
        if problem:
            return f"argument '{name}' {problem}"
    return None


def _check_value(schema: dict, value: object) -> str | None:
    kind = schema["type"]
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
    }[kind]
    if not ok:
        return f"must be of type {kind}"
    if "enum" in schema and value not in schema["enum"]:
        return f"must be one of {schema['enum']}"
    if kind == "array":
        for item in value:
            problem = _check_value(schema["items"], item)
            if problem:
                return f"items {problem}"
    return None


async def run(name: str, arguments: str, *, context: ToolContext, timeout: float) -> str:
    """Call a tool by name with JSON arguments; every failure becomes an "Error: …" result."""
    spec = REGISTRY.get(name)
    if spec is None:
        return f"Error: unknown tool '{name}'. Available tools: {', '.join(sorted(REGISTRY))}."
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError as exc:
        return f"Error: the arguments are not valid JSON ({exc})."
    problem = check_arguments(spec.parameters, parsed)
    if problem:
        return f"Error: invalid arguments: {problem}."
    if spec.context_param:
        parsed[spec.context_param] = context
    try:
        result = await asyncio.wait_for(
            sync_to_async(_call, thread_sensitive=False)(spec.function, parsed), timeout
        )
    except TimeoutError:
        return f"Error: the tool took longer than {timeout:g} s."
    except Exception as exc:  # noqa: BLE001 - a tool's failure is the model's to read
        return f"Error: {type(exc).__name__}: {exc}"
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + "\n[truncated]"
    return text


def _call(function: Callable, arguments: dict):
    # Tools run in worker threads: give database tools a usable connection.
    close_old_connections()
    try:
        return function(**arguments)
    finally:
        close_old_connections()
