"""The MCP servers' tools, offered to turns through tools.external: for one user, each
offered tool of each enabled, reachable server their groups may use (access/kinds.py,
MCP_SERVER: everyone unless a rule keeps a server to some groups). From memory only: the
turn asks on the database thread while it plans a reply.

A tool needs the user's approval for each call when it may change something: it declares
`destructiveHint: true`, or does not declare `readOnlyHint: true`; unless staff trust it.
"""

from collections.abc import Iterator

from ..access import kinds
from ..access import policy as access_policy
from ..tools import external
from ..tools.external import ExternalTool, ToolOutcome
from . import client, discovery

SOURCE = "mcp"


def needs_approval(tool: discovery.DiscoveredTool, trusted: frozenset[str]) -> bool:
    if tool.remote_name in trusted:
        return False
    return tool.destructive is True or tool.read_only is not True


def tools_for(user_id: int) -> Iterator[ExternalTool]:
    states = discovery.states()
    if not states:
        return
    access = (access_policy.cached() or access_policy.current()).user(user_id)
    for state in states.values():
        if not access.may(kinds.MCP_SERVER, str(state.id)):
            continue
        for tool in state.offered_tools():
            yield ExternalTool(
                name=tool.name,
                description=tool.description,
                parameters=tool.parameters,
                source=SOURCE,
                server=state.name,
                remote_name=tool.remote_name,
                needs_approval=needs_approval(tool, state.trusted),
                runner=_runner(state.id, tool.remote_name),
            )


def servers_for(user_id: int) -> list[tuple[str, bool | None]]:
    """The enabled servers this user may use, by name, with whether this process reached
    them at the last listing (None: not listed yet): for a Tools menu to show an
    unreachable server as such. From memory only."""
    states = discovery.states()
    if not states:
        return []
    access = (access_policy.cached() or access_policy.current()).user(user_id)
    return [
        (state.name, state.reachable)
        for state in sorted(states.values(), key=lambda s: s.name)
        if access.may(kinds.MCP_SERVER, str(state.id))
    ]


def _runner(server_id: int, remote_name: str):
    async def run(arguments: dict, timeout: float) -> ToolOutcome:
        # The entry as it is now: disabled or deleted since the turn began, it is not called.
        state = discovery.states().get(server_id)
        if state is None:
            return ToolOutcome(
                text="Error: this tool's MCP server is no longer available.", ok=False
            )
        return await client.call_tool(state.endpoint, remote_name, arguments, timeout)

    return run


def install() -> None:
    """Offer the tools, and say how their servers are (at start-up)."""
    external.add_source(tools_for)
    external.add_state_source(server_states)


def server_states(user_id: int) -> list[external.ServerState]:
    """servers_for, as the seam says it."""
    return [external.ServerState(name, reachable) for name, reachable in servers_for(user_id)]
