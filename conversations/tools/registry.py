"""Tools as plain typed functions: a JSON schema from the signature, safe calls, "Error: …" results.

A tool is registered with `@tool` (see builtin.py); a parameter annotated `ToolContext`
is filled in by the app (who is asking) and never shown to the model.

Where a tool runs: by default in a worker process (workers.py), where a call that runs
past its timeout is killed, GIL and all. A tool that needs the database is registered
with `@tool(isolated=False)` and runs in a thread instead; a thread cannot be stopped,
so such a tool must bound its own work (one query with a limit, say).
"""

import asyncio
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from ..llm import ToolSpec
from . import workers
from .workers import as_result

REGISTRY: dict[str, "Tool"] = {}

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
    isolated: bool = True  # Runs in a worker process that can be killed.

    def spec(self) -> ToolSpec:
        """The tool as a request offers it."""
        return ToolSpec(self.name, self.description, self.parameters)


def tool_names() -> list[tuple[str, str]]:
    """The registered tools, as access rules name them."""
    return [(name, name) for name in sorted(REGISTRY)]


def tool(function: Callable | None = None, *, isolated: bool = True):
    """Register a function as a tool; its signature and docstring say how to call it.

    `@tool` runs it in a worker process; `@tool(isolated=False)` in a thread (for tools
    that use the database, whose work must be bounded by construction).
    """

    def register(function: Callable) -> Callable:
        registered = build_tool(function, isolated=isolated)
        REGISTRY[registered.name] = registered
        return function

    return register(function) if function is not None else register


def build_tool(function: Callable, *, isolated: bool = True) -> Tool:
    """A Tool for a function, from its signature and docstring, without registering it.

    An isolated tool must be a module-level function: worker processes import it by name.
    """
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
    return Tool(function.__name__, summary, parameters, function, context_param, isolated)


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


async def run(
    name: str,
    arguments: str,
    *,
    context: ToolContext,
    timeout: float,
    offered: Collection[str],
) -> str:
    """Call a tool by name with JSON arguments; every failure becomes an "Error: …" result.

    Only a tool in `offered` (what the request offered the model) runs. A tool's own
    exception, whatever its kind, is its result at once; only the caller's cancellation
    propagates.
    """
    if name not in offered:
        listed = ", ".join(sorted(offered))
        return f"Error: tool '{name}' was not offered. " + (
            f"Offered tools: {listed}." if listed else "No tools were offered."
        )
    spec = REGISTRY.get(name)
    if spec is None:
        return f"Error: unknown tool '{name}'."
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError as exc:
        return f"Error: the arguments are not valid JSON ({exc})."
    except RecursionError:
        return "Error: the arguments are nested too deeply to read."
    problem = check_arguments(spec.parameters, parsed)
    if problem:
        return f"Error: invalid arguments: {problem}."
    if spec.context_param:
        parsed[spec.context_param] = context
    if spec.isolated:
        return await workers.call(spec.function, parsed, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            return await sync_to_async(_call, thread_sensitive=False)(spec.function, parsed)
    except TimeoutError:
        # The thread runs on to its end: tools that run here bound their own work.
        return workers.timeout_result(timeout)


def start_workers() -> None:
    """Start the worker processes ahead of the first tool call (blocking: off the loop),
    unless nothing would run in them: no isolated tool, or the offline model, which is
    offered no tools."""
    if settings.LLM_LOCAL_MODEL or not any(t.isolated for t in REGISTRY.values()):
        return
    workers.start()


def _call(function: Callable, arguments: dict) -> str:
    # Tools run in worker threads: give database tools a usable connection.
    close_old_connections()
    try:
        return as_result(function, arguments)
    finally:
        close_old_connections()
