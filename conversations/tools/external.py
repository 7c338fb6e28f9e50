"""Tools that live outside this process (an MCP server's, say), offered beside the built-in
ones. A source of such tools registers one function with `add_source`; the turn asks
`for_user` which of them a user's turn may offer, and calls one through its `runner`.

The seam is this narrow so that the turn (tools.registry, chat.generation) knows nothing
of any protocol, and a source knows nothing of turns: a source answers from memory (its
own cache, its own access checks) and never does network I/O when asked what it offers,
because it is asked on the database thread while a reply is planned.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from ..llm import ToolSpec

# A tool's name as a model sees it: what the OpenAI wire format allows for a function name.
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


@dataclass(frozen=True)
class ToolOutcome:
    """What one call of an external tool came to."""

    text: str  # What the model reads: the result, or "Error: …"; already bounded.
    ok: bool
    truncated: bool = False  # The result was cut at the size bound (the text says so too).


@dataclass(frozen=True)
class ExternalTool:
    """One tool a source offers, as one user may use it."""

    name: str  # Unique across sources (namespaced by the source), matching NAME_PATTERN.
    description: str
    parameters: dict  # A JSON Schema object, as the source declared it.
    source: str  # The kind of source, e.g. "mcp".
    server: str  # Which of the source's servers, as staff named it (for records).
    remote_name: str  # The tool's own name at that server.
    needs_approval: bool  # The user approves each call in the page first.
    # Called with the parsed arguments and a timeout in seconds; never raises but for the
    # caller's cancellation (a stop), which must cancel the call.
    runner: Callable[[dict, float], Awaitable[ToolOutcome]] = field(compare=False, repr=False)

    def spec(self) -> ToolSpec:
        """The tool as a request offers it."""
        return ToolSpec(self.name, self.description, self.parameters)


@dataclass(frozen=True)
class ServerState:
    """One of a source's servers that a user may use, as this process last found it."""

    name: str
    reachable: bool | None  # None: not asked yet.


Source = Callable[[int], Iterable[ExternalTool]]
StateSource = Callable[[int], Iterable[ServerState]]

SOURCES: list[Source] = []
STATE_SOURCES: list[StateSource] = []


def add_source(source: Source) -> None:
    """Offer a source's tools (called once, at start-up, by the package that owns them)."""
    if source not in SOURCES:
        SOURCES.append(source)


def add_state_source(source: StateSource) -> None:
    """Say how a source's servers are (called once, at start-up, beside `add_source`), so a
    page can show a server it cannot reach rather than leave its tools out unexplained."""
    if source not in STATE_SOURCES:
        STATE_SOURCES.append(source)


def servers_for(user_id: int) -> list[ServerState]:
    """The servers this user may use, and whether each was reached (from memory: no I/O)."""
    return [state for source in STATE_SOURCES for state in source(user_id)]


def for_user(user_id: int) -> dict[str, ExternalTool]:
    """Every external tool this user may use now, by name (from memory: no I/O)."""
    tools: dict[str, ExternalTool] = {}
    for source in SOURCES:
        for tool in source(user_id):
            tools.setdefault(tool.name, tool)
    return tools
