"""The seam for tools from outside this process: sources, names, first source wins."""

import asyncio

from conversations.tools import external


def _tool(name: str, server: str) -> external.ExternalTool:
    async def runner(arguments: dict, timeout: float) -> external.ToolOutcome:
        return external.ToolOutcome(text=f"{server}:{arguments}", ok=True)

    return external.ExternalTool(
        name=name,
        description="d",
        parameters={"type": "object", "properties": {}},
        source="test",
        server=server,
        remote_name=name,
        needs_approval=False,
        runner=runner,
    )


def test_for_user_merges_sources_per_user_and_the_first_source_keeps_a_name(monkeypatch):
    monkeypatch.setattr(external, "SOURCES", [])
    first = lambda user_id: [_tool("a", "one")] if user_id == 1 else []  # noqa: E731
    second = lambda user_id: [_tool("a", "two"), _tool("b", "two")]  # noqa: E731
    external.add_source(first)
    external.add_source(second)
    external.add_source(first)  # Twice is once.
    assert len(external.SOURCES) == 2
    tools = external.for_user(1)
    assert sorted(tools) == ["a", "b"] and tools["a"].server == "one"
    assert list(external.for_user(2)) == ["a", "b"] and external.for_user(2)["a"].server == "two"
    outcome = asyncio.run(tools["b"].runner({"x": 1}, 1.0))
    assert outcome == external.ToolOutcome(text="two:{'x': 1}", ok=True)


def test_servers_for_joins_the_state_sources_for_one_user(monkeypatch):
    monkeypatch.setattr(external, "STATE_SOURCES", [])
    up = external.ServerState("Up", True)
    down = external.ServerState("Down", False)
    first = lambda user_id: [up] if user_id == 1 else []  # noqa: E731
    second = lambda user_id: [down]  # noqa: E731
    external.add_state_source(first)
    external.add_state_source(second)
    external.add_state_source(first)  # Twice is once.
    assert external.servers_for(1) == [up, down]
    assert external.servers_for(2) == [down]
