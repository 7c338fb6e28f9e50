"""Tools that exist only for tests; `tool_registry` (conftest) registers them for one test."""

import time
from typing import Literal


def sample_tool(
    city: str, days: int, unit: Literal["c", "f"] = "c", tags: list[str] | None = None
) -> str:
    """Describe the weather.

    Args:
        city: Where, e.g. "Paris".
        days: How many days
            ahead to look.
        unit: Temperature unit.
    """
    return f"{city} {days} {unit} {tags}"


def sleepy_tool(seconds: float) -> str:
    """Sleep, then answer (for timeout tests)."""
    time.sleep(seconds)
    return "awake"
