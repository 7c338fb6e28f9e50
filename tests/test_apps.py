"""The app as Django loads it: the built-in tools registered, the search index kept whole
after any migration, and the sign-in signals connected."""

import pytest
from django.apps import apps
from django.contrib.auth.signals import user_logged_out
from django.core.management import call_command
from django.db import connection

from conversations.apps import ConversationsConfig
from conversations.tools import registry


def test_the_built_in_tools_are_registered_when_it_is_ready():
    assert isinstance(apps.get_app_config("conversations"), ConversationsConfig)
    assert {"calculator", "convert_units", "current_datetime", "search_conversations"} <= set(
        registry.REGISTRY
    )
    assert user_logged_out.has_listeners()


@pytest.mark.django_db(transaction=True)
def test_a_migration_leaves_the_search_index_whole():
    if connection.vendor != "sqlite":
        pytest.skip("the index's triggers are SQLite's (PostgreSQL indexes a column)")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER conversations_message_fts_ai")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            ["conversations_message_fts_%"],
        )
        assert "conversations_message_fts_ai" in {name for (name,) in cursor.fetchall()}
