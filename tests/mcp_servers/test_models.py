"""An MCP server entry: its headers are a Fernet token in the database, its prefix keeps
its tools' names apart from every other server's."""

import pytest
from django.core.exceptions import ValidationError

from conversations.mcp_servers.models import McpServer

pytestmark = pytest.mark.django_db


def entry(**fields) -> McpServer:
    return McpServer(
        **{"name": "T", "prefix": "t", "url": "https://tools.example.com/mcp", **fields}
    )


def test_headers_live_encrypted_on_the_row():
    row = entry()
    row.headers = {"Authorization": "Bearer abc-secret-123"}
    row.save()
    stored = McpServer.objects.values_list("headers_encrypted", flat=True).get()
    assert "abc-secret-123" not in stored
    assert McpServer.objects.get().headers == {"Authorization": "Bearer abc-secret-123"}
    assert "abc-secret-123" not in repr(row) and "abc-secret-123" not in str(row)


@pytest.mark.parametrize("prefix", ["gh", "my-tools", "a1_b2"])
def test_good_prefixes(prefix):
    entry(prefix=prefix).full_clean()


@pytest.mark.parametrize("prefix", ["a__b", "_a", "a_", "A", "a.b", "a" * 21, ""])
def test_bad_prefixes(prefix):
    with pytest.raises(ValidationError):
        entry(prefix=prefix).full_clean()


def test_the_default_timeout_comes_from_the_setting(settings):
    settings.CHAT_MCP_TIMEOUT = 12
    assert entry().timeout == 12
