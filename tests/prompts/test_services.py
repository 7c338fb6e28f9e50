"""Writes of prompts: bounded per user, commands unique per owner and among shared ones,
gone with the account (through the deletion service)."""

import pytest
from django.db import IntegrityError, transaction

from conversations.deletion import services as deletion_services
from conversations.prompts import (
    cleanup,
    services,
)
from conversations.prompts.models import Prompt

pytestmark = pytest.mark.django_db


def test_a_user_keeps_at_most_the_configured_number(user, other_user, settings):
    settings.CHAT_MAX_PROMPTS_PER_USER = 2
    services.prompt_create(owner=user, command="a", title="A", text="a")
    services.prompt_create(owner=user, command="b", title="B", text="b")
    with pytest.raises(services.PromptLimitReached, match="at most 2"):
        services.prompt_create(owner=user, command="c", title="C", text="c")
    # Others' and shared prompts do not count against one's own.
    services.prompt_create(owner=other_user, command="a", title="A", text="a")
    services.prompt_create(owner=None, command="a", title="A", text="a")
    services.prompt_create(owner=None, command="b", title="B", text="b")
    services.prompt_create(owner=None, command="c", title="C", text="c")
    assert Prompt.objects.filter(owner=user).count() == 2


def test_commands_are_unique_per_owner_and_among_shared_ones(user, other_user):
    services.prompt_create(owner=user, command="sum", title="Mine", text="x")
    services.prompt_create(owner=other_user, command="sum", title="Theirs", text="x")
    services.prompt_create(owner=None, command="sum", title="Shared", text="x")
    for owner in (user, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            services.prompt_create(owner=owner, command="sum", title="Again", text="x")


def test_import_adds_new_commands_only_and_all_or_none(user, settings):
    services.prompt_create(owner=user, command="keep", title="Mine", text="mine")
    added = services.prompts_import(
        owner=user,
        prompts=[
            {"command": "keep", "title": "From file", "text": "file"},
            {"command": "new", "title": "New", "text": "new"},
            {"command": "new", "title": "Twice", "text": "twice"},
        ],
    )
    assert added == 1
    assert dict(Prompt.objects.filter(owner=user).values_list("command", "text")) == {
        "keep": "mine",
        "new": "new",
    }
    settings.CHAT_MAX_PROMPTS_PER_USER = 3
    with pytest.raises(services.PromptLimitReached):
        services.prompts_import(
            owner=user,
            prompts=[{"command": c, "title": c, "text": c} for c in ("x", "y")],
        )
    assert Prompt.objects.filter(owner=user).count() == 2


def test_deleting_an_account_deletes_its_prompts_only(user, other_user):
    services.prompt_create(owner=user, command="a", title="A", text="a")
    theirs = services.prompt_create(owner=other_user, command="a", title="A", text="a")
    shared = services.prompt_create(owner=None, command="a", title="A", text="a")
    deletion_services.account_delete(user=user)
    assert set(Prompt.objects.all()) == {theirs, shared}


def test_the_account_cleanup_is_registered():
    from conversations.deletion import registry

    assert registry.ACCOUNT_CLEANUPS["prompts"] is cleanup.account_prompts
