"""The admin's MCP tool servers: staff set headers that are stored encrypted and never
shown back nor kept in the history; the per-tool choices come from the listing with its
hints; only a superuser may make a server internal (or move an internal one); "Refresh
tools" lists the tools now."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from conversations.mcp_servers import discovery
from conversations.mcp_servers.models import McpServer

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/admin/conversations/mcpserver/"
SECRET = "Bearer tok-9f8e7d6c5b4a-SECRET"


def form(**fields) -> dict:
    return {
        "name": "Test tools",
        "prefix": "test",
        "url": "https://tools.example.com/mcp",
        "timeout": "30",
        "enabled": "on",
        "offer_all": "on",
        **fields,
    }


@pytest.fixture
def staff_client(django_user_model):
    staff = django_user_model.objects.create_user(
        username="sam", password="pw-sam-123", is_staff=True
    )
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_mcpserver"))
    client = Client()
    client.force_login(staff)
    return client


def test_headers_are_encrypted_at_rest_and_never_shown(admin_client):
    response = admin_client.post(URL + "add/", form(new_headers=f"Authorization: {SECRET}"))
    assert response.status_code == 302, response.content.decode()[:2000]
    row = McpServer.objects.get()
    assert row.headers == {"Authorization": SECRET}
    with connection.cursor() as cursor:
        cursor.execute("SELECT headers_encrypted FROM conversations_mcpserver")
        stored = cursor.fetchone()[0]
    assert stored and "tok-9f8e7d6c5b4a" not in stored and "Authorization" not in stored
    page = admin_client.get(f"{URL}{row.pk}/change/").content.decode()
    assert "tok-9f8e7d6c5b4a" not in page and "Stored now: Authorization." in page
    assert "tok-9f8e7d6c5b4a" not in admin_client.get(URL).content.decode()
    history = admin_client.get(f"{URL}{row.pk}/history/").content.decode()
    assert "tok-9f8e7d6c5b4a" not in history
    assert not any("tok-9f8e7d6c5b4a" in entry.change_message for entry in LogEntry.objects.all())


def test_headers_are_kept_replaced_or_cleared(admin_client):
    admin_client.post(URL + "add/", form(new_headers=f"Authorization: {SECRET}"))
    row = McpServer.objects.get()
    admin_client.post(f"{URL}{row.pk}/change/", form())
    row.refresh_from_db()
    assert row.headers == {"Authorization": SECRET}
    admin_client.post(f"{URL}{row.pk}/change/", form(new_headers="X-Api-Key: other-value"))
    row.refresh_from_db()
    assert row.headers == {"X-Api-Key": "other-value"}
    admin_client.post(f"{URL}{row.pk}/change/", form(clear_headers="on"))
    row.refresh_from_db()
    assert row.headers == {} and row.headers_encrypted == ""


@pytest.mark.parametrize(
    "text",
    ["no colon here", "Bad Name: x", "Host: evil.example.com", "X-Key: a\x01b"],
)
def test_bad_headers_are_refused_without_quoting_them(admin_client, text):
    response = admin_client.post(URL + "add/", form(new_headers=text))
    assert response.status_code == 200 and not McpServer.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"prefix": "a__b"},  # Would blur where the prefix ends.
        {"prefix": "Upper"},
        {"url": "file:///etc/passwd"},
        {"url": "ftp://tools.example.com/"},
        {"url": "https://user:pass@tools.example.com/mcp"},
        {"timeout": "0"},
        {"timeout": "100000"},
    ],
)
def test_bad_entries_are_refused(admin_client, fields):
    assert admin_client.post(URL + "add/", form(**fields)).status_code == 200
    assert not McpServer.objects.exists()


def test_only_a_superuser_may_make_a_server_internal(admin_client, staff_client):
    staff_client.post(URL + "add/", form(internal="on"))
    row = McpServer.objects.get()
    assert row.internal is False
    admin_client.post(f"{URL}{row.pk}/change/", form(internal="on"))
    row.refresh_from_db()
    assert row.internal is True
    # Staff may not move an internal server elsewhere, nor turn the flag off and on.
    response = staff_client.post(f"{URL}{row.pk}/change/", form(url="http://10.0.0.1/mcp"))
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.url == "https://tools.example.com/mcp" and row.internal
    staff_client.post(f"{URL}{row.pk}/change/", form())  # "internal" left out: kept.
    row.refresh_from_db()
    assert row.internal is True


def test_the_number_of_servers_is_bounded(admin_client, monkeypatch):
    monkeypatch.setattr(discovery, "MAX_SERVERS", 1)
    assert admin_client.post(URL + "add/", form()).status_code == 302
    response = admin_client.post(URL + "add/", form(name="Two", prefix="two"))
    assert response.status_code == 200 and "the most kept" in response.content.decode()
    assert McpServer.objects.count() == 1


def test_users_who_are_not_staff_cannot_reach_the_page(client, user):
    client.force_login(user)
    assert client.get(URL).status_code == 302


def test_refresh_shows_the_tools_with_their_hints_and_offers_a_choice(admin_client, mcp_server):
    admin_client.post(URL + "add/", form(url=mcp_server.url))
    row = McpServer.objects.get()
    row.internal = True
    row.save()
    response = admin_client.post(
        URL, {"action": "refresh_tools", "_selected_action": [row.pk]}, follow=True
    )
    assert "Test tools: 10 tools listed." in response.content.decode()
    page = admin_client.get(f"{URL}{row.pk}/change/").content.decode()
    assert "delete_all (destructive)" in page and "echo (read-only)" in page
    assert "no_hints (may change things (no readOnlyHint))" in page
    assert "reachable, checked" in page
    admin_client.post(
        f"{URL}{row.pk}/change/",
        form(
            url=mcp_server.url,
            internal="on",
            offer_all="",
            offered=["echo", "delete_all"],
            trusted=["delete_all"],
        ),
    )
    row.refresh_from_db()
    assert (row.offered_tools, row.trusted_tools) == (["delete_all", "echo"], ["delete_all"])
    admin_client.post(URL, {"action": "refresh_tools", "_selected_action": [row.pk]})
    page = admin_client.get(URL).content.decode()
    assert "2 of 10" in page


def test_who_may_use_a_server_is_an_access_rule(admin_client):
    row = McpServer.objects.create(name="Team tools", prefix="team", url="https://x.example/mcp")
    page = admin_client.get("/admin/conversations/accessrule/add/").content.decode()
    assert 'optgroup label="MCP tool server"' in page
    assert f'value="mcp_server:{row.pk}"' in page and "Team tools" in page
