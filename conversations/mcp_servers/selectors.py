"""Reads of MCP server entries."""

from .models import McpServer


def enabled_servers(*, limit: int) -> list[McpServer]:
    """The enabled entries, by name, at most `limit`."""
    return list(McpServer.objects.filter(enabled=True).order_by("name")[:limit])


def server_names(*, limit: int = 1000) -> list[tuple[str, str]]:
    """Every entry as access rules name it: (id as text, name)."""
    return [(str(pk), name) for pk, name in McpServer.objects.values_list("pk", "name")[:limit]]


def server_name(key: str) -> str:
    """One entry's name, by the key rules store; the key when there is no such entry."""
    name = (
        McpServer.objects.filter(pk=int(key)).values_list("name", flat=True).first()
        if key.isdigit()
        else None
    )
    return name or key
