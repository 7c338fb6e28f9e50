"""The kinds of thing an access rule can name. A new kind is one line here (its key is
what rules store, its label what staff read), and its checks one call where the things
are used: `policy.current().user(user_id).may(KIND, name)`. The package that owns the
things offers their names to the admin's form (`offer`, one call at start-up).

A rule's name is the thing's stable key: a model's id, a shared persona's id, a tool's
name.
"""

from collections.abc import Callable, Iterable

KINDS: dict[str, str] = {}  # key -> label, in the order the admin lists them

# What the admin's form offers for each kind: (name, label) pairs, read when the form is
# drawn; and how to show one name to staff (see `offer`).
NAME_SOURCES: dict[str, Callable[[], Iterable[tuple[str, str]]]] = {}
LABELLERS: dict[str, Callable[[str], str]] = {}


def kind(key: str, label: str) -> str:
    """Register a kind of thing rules may name; its key."""
    KINDS[key] = label
    return key


MODEL = kind("model", "Model")
PERSONA = kind("persona", "Shared persona")
TOOL = kind("tool", "Tool")
MCP_SERVER = kind("mcp_server", "MCP tool server")
PROMPT = kind("prompt", "Shared prompt")


def offer(
    key: str,
    names: Callable[[], Iterable[tuple[str, str]]],
    label: Callable[[str], str] | None = None,
) -> None:
    """Let the admin list the things of a kind, and show one by a name staff know (called
    by the package that owns them, which this data package may not import)."""
    NAME_SOURCES[key] = names
    if label is not None:
        LABELLERS[key] = label


def label(key: str) -> str:
    return KINDS.get(key, key)
