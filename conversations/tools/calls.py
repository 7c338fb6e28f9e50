"""One tool call of a turn, built-in or external, from the model's words to its result and
the record of how it went.

Every failure is an "Error: …" result the model reads, as a built-in tool's own failures
are; the record (saved on the tool message, shown in the page and the review transcript)
says what kind: ok, error, timeout, declined, truncated or refused. Only the caller's
cancellation (a stop) propagates, and it cancels the call in flight.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal

import jsonschema
from jsonschema.exceptions import best_match

from ..limits import rate_limits
from . import registry, workers
from .external import ExternalTool, ToolOutcome

Outcome = Literal["ok", "error", "timeout", "declined", "truncated", "refused"]
Answer = Literal["approved", "denied", "expired"]
# Asks the user whether this call may run (the tool asks for approval); returns their answer.
Approver = Callable[[ExternalTool, str], Awaitable[Answer]]

# Bounds on what the model wrote and what a tool declared: both are checked before anything
# walks them, so a megabyte of arguments or a schema nested a thousand deep costs nothing.
MAX_ARGUMENT_CHARS = 64 * 1024
MAX_SCHEMA_CHARS = 64 * 1024
MAX_DEPTH = 32
MAX_RECORDED_ARGUMENTS = 4000  # Of the arguments' text kept in a call's record.
MAX_PROBLEM_CHARS = 300  # Of a validator's message, which may quote the value.
# An external runner is given the timeout itself; past it and this much more it is
# cancelled here, so a runner that forgets its own timeout still cannot hold a turn.
RUNNER_GRACE = 2.0


@dataclass(frozen=True)
class CallResult:
    """What the model reads, and the record of the call."""

    text: str
    record: dict


async def call(
    name: str,
    arguments: str,
    *,
    context: registry.ToolContext,
    timeout: float,
    offered: Collection[str],
    external: Mapping[str, ExternalTool],
    approve: Approver | None = None,
) -> CallResult:
    """Run one call the model made: `offered` are the names its request offered, and
    `external` the external tools the user may use now (tools.external.for_user)."""
    started = time.monotonic()
    tool = external.get(name) if name not in registry.REGISTRY else None
    record: dict = {
        "source": tool.source if tool else "builtin",
        "server": tool.server if tool else None,
        "tool": name,
        "remote_name": tool.remote_name if tool else name,
        "arguments": (arguments or "")[:MAX_RECORDED_ARGUMENTS],
    }

    def done(text: str, outcome: Outcome) -> CallResult:
        record["duration_ms"] = round((time.monotonic() - started) * 1000)
        record["outcome"] = outcome
        return CallResult(text, record)

    if name not in offered:
        listed = ", ".join(sorted(offered))
        return done(
            f"Error: tool '{name}' was not offered. "
            + (f"Offered tools: {listed}." if listed else "No tools were offered."),
            "refused",
        )
    if name not in registry.REGISTRY and tool is None:
        # Offered when the request was planned, gone since (a server removed it, or staff
        # took the user's access away).
        return done(f"Error: tool '{name}' is no longer available.", "refused")
    wait = await rate_limits.ahit(rate_limits.TOOL_CALLS, context.user_id)
    if wait is not None:
        return done(
            f"Error: {rate_limits.refusal_text(rate_limits.TOOL_CALLS, wait)} "
            "The call was not made.",
            "refused",
        )
    if tool is None:
        text = await registry.run(
            name, arguments, context=context, timeout=timeout, offered=offered
        )
        return done(text, _builtin_outcome(text, timeout))
    parsed, problem = parse_arguments(arguments, tool.parameters)
    if problem:
        return done(f"Error: {problem}", "error")
    if tool.needs_approval:
        answer = await approve(tool, arguments) if approve else "denied"
        if answer != "approved":
            return done(
                "Error: the user declined this call; it was not made."
                if answer == "denied"
                else "Error: the user did not approve this call in time; it was not made.",
                "declined",
            )
    outcome, timed_out = await _run_external(tool, parsed, timeout)
    text, truncated = bounded(outcome.text)
    if timed_out:
        return done(text, "timeout")
    if not outcome.ok:
        return done(text, "error")
    return done(text, "truncated" if truncated or outcome.truncated else "ok")


async def _run_external(
    tool: ExternalTool, arguments: dict, timeout: float
) -> tuple[ToolOutcome, bool]:
    """The runner's outcome, and whether it ran out of time. A stop cancels the runner.
    (A timeout scope, not wait_for, which on Python 3.11 can swallow that cancellation.)"""
    try:
        async with asyncio.timeout(timeout + RUNNER_GRACE):
            return await tool.runner(arguments, timeout), False
    except TimeoutError:
        return ToolOutcome(workers.timeout_result(timeout), ok=False), True
    except Exception as exc:  # noqa: BLE001 - a runner must not raise; if it does, it is the result
        return ToolOutcome(f"Error: the tool failed ({type(exc).__name__}).", ok=False), False


def bounded(text: object) -> tuple[str, bool]:
    """A result as text of at most the tools' result size, with a note when it was cut."""
    text = text if isinstance(text, str) else str(text)
    if len(text) <= workers.MAX_RESULT_CHARS:
        return text, False
    return text[: workers.MAX_RESULT_CHARS] + "\n[truncated: the result was longer]", True


def _builtin_outcome(text: str, timeout: float) -> Outcome:
    if text == workers.timeout_result(timeout):
        return "timeout"
    if text.startswith("Error: tool '") and "was not offered" in text:
        return "refused"
    if text.startswith("Error:"):
        return "error"
    return "truncated" if text.endswith("[truncated]") else "ok"


def parse_arguments(arguments: str, schema: dict) -> tuple[dict, str | None]:
    """The model's arguments, parsed and checked against the tool's JSON Schema; or what is
    wrong (with them, or with a schema too large or broken to check against)."""
    if len(arguments or "") > MAX_ARGUMENT_CHARS:
        return {}, f"the arguments are longer than {MAX_ARGUMENT_CHARS:,} characters."
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError as exc:
        return {}, f"the arguments are not valid JSON ({exc})."
    except RecursionError:
        return {}, "the arguments are nested too deeply to read."
    if _depth(parsed) > MAX_DEPTH:
        return {}, f"the arguments are nested more than {MAX_DEPTH} levels deep."
    if not isinstance(parsed, dict):
        return {}, "invalid arguments: arguments must be a JSON object."
    try:
        size = len(json.dumps(schema))
    except (TypeError, ValueError, RecursionError):
        size = MAX_SCHEMA_CHARS + 1
    if not isinstance(schema, dict) or size > MAX_SCHEMA_CHARS or _depth(schema) > MAX_DEPTH:
        return {}, "the tool's parameter schema is too large or deep to check arguments against."
    try:
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        validator_class.check_schema(schema)
        error = best_match(validator_class(schema).iter_errors(parsed))
    except jsonschema.SchemaError:
        return {}, "the tool's parameter schema is not a valid JSON Schema."
    except Exception:  # noqa: BLE001 - an unresolvable $ref, say: never fetched, never fatal
        return {}, "the arguments could not be checked against the tool's parameter schema."
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        message = error.message[:MAX_PROBLEM_CHARS]
        return {}, f"invalid arguments{f' at {where}' if where else ''}: {message}."
    return parsed, None


def _depth(value: object) -> int:
    """How deeply lists and objects nest in a JSON value (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest
