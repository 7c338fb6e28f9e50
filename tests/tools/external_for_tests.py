"""A test-only source of external tools, offered through tools.external's real seam (no
MCP): tools that answer, fail, take long, hang past their timeout, answer too much, or
ask the user first; and access per user. `external_tools` (conftest)
registers it for one test."""

import asyncio
import json
from dataclasses import dataclass, field

from conversations.tools import workers
from conversations.tools.external import ExternalTool, ToolOutcome

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>**bold**'


@dataclass
class TestSource:
    """Which users may use which tools (None: everyone), and what the calls did."""

    __test__ = False  # Not a test class, despite its name.

    allowed: dict[str, set[int] | None] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    started: asyncio.Event | None = None

    def __call__(self, user_id: int) -> list[ExternalTool]:
        return [
            tool
            for tool in TOOLS(self)
            if tool.name not in self.removed
            and (self.allowed.get(tool.name) is None or user_id in self.allowed[tool.name])
        ]


def TOOLS(source: TestSource) -> list[ExternalTool]:
    def make(name, runner, *, approval=False, parameters=None, description="") -> ExternalTool:
        async def run(arguments: dict, timeout: float) -> ToolOutcome:
            source.calls.append((name, arguments))
            if source.started is not None:
                source.started.set()
            try:
                return await runner(arguments, timeout)
            except asyncio.CancelledError:
                # A runner ends its call on cancellation (closing its connection, say):
                # work that takes a moment, which whoever cancelled it must wait for.
                await asyncio.sleep(0.3)
                source.cancelled.append(name)
                raise

        return ExternalTool(
            name=f"files__{name}",
            description=description or f"The {name} tool.",
            parameters=parameters
            or {
                "type": "object",
                "properties": {"text": {"type": "string", "maxLength": 50}},
                "required": ["text"],
                "additionalProperties": False,
            },
            source="mcp",
            server="files",
            remote_name=name,
            needs_approval=approval,
            runner=run,
        )

    async def echo(arguments, timeout):
        return ToolOutcome(text=f"echo: {arguments['text']}", ok=True)

    async def fail(arguments, timeout):
        return ToolOutcome(text="Error: the server said no.", ok=False)

    async def slow(arguments, timeout):
        await asyncio.sleep(arguments.get("seconds", 30))
        return ToolOutcome(text="slept", ok=True)

    async def hang(arguments, timeout):
        while True:  # Ignores its timeout; only cancellation ends it.
            await asyncio.sleep(3600)

    async def huge(arguments, timeout):
        return ToolOutcome(text="y" * (workers.MAX_RESULT_CHARS * 3), ok=True)

    async def delete(arguments, timeout):
        return ToolOutcome(text=f"deleted {arguments['text']} {HOSTILE}", ok=True)

    async def broken(arguments, timeout):
        raise RuntimeError("a runner that raises")

    seconds = {
        "type": "object",
        "properties": {"seconds": {"type": "number", "minimum": 0}},
        "additionalProperties": False,
    }
    return [
        make("echo", echo, description="Echo the text back."),
        make("fail", fail),
        make("slow", slow, parameters=seconds),
        make("hang", hang, parameters=seconds),
        make("huge", huge),
        make("delete", delete, approval=True, description="Delete a file (asks first)."),
        make("broken", broken),
    ]


def arguments(**values) -> str:
    return json.dumps(values)
