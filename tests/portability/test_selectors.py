"""Reads for export: a conversation's whole tree, every version; all of a user's
conversations and no one else's; the next turn's messages with the user's instructions;
conversations imported before, found by fingerprint for their owner only."""

import pytest

from conversations import services
from conversations.accounts.models import UserSettings
from conversations.models import Conversation
from conversations.portability import selectors
from tests import factories

pytestmark = pytest.mark.django_db


def asked_twice(owner, title: str = "T") -> Conversation:
    """A question whose reply was regenerated: three messages, two on the branch shown."""
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title=title)
    question = factories.message_append(
        conversation=conversation, role="user", content="Why?", parent=None
    )
    factories.message_append(
        conversation=conversation, role="assistant", content="Because.", parent=question
    )
    factories.message_append(
        conversation=conversation, role="assistant", content="Since it is.", parent=question
    )
    conversation.refresh_from_db()
    return conversation


def test_the_tree_has_every_version_and_the_export_the_branch_shown(user):
    conversation = asked_twice(user)
    assert [m.content for m in selectors.conversation_tree(conversation=conversation)] == [
        "Why?",
        "Because.",
        "Since it is.",
    ]
    UserSettings.objects.create(user=user, custom_instructions="Answer in French.")
    document = selectors.conversation_export(conversation=conversation)
    assert (document["id"], document["title"], document["persona"]) == (conversation.pk, "T", None)
    assert document["messages"][0]["role"] == "system"
    assert "Answer in French." in document["messages"][0]["content"]
    assert document["messages"][1:] == [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Since it is."},
    ]


def test_all_of_a_users_conversations_and_no_one_elses(user, other_user):
    first = asked_twice(user, "First")
    archived = asked_twice(user, "Archived")
    Conversation.objects.filter(pk=archived.pk).update(archived=True)
    asked_twice(other_user, "Theirs")
    assert [c.title for c in selectors.conversation_list_all(user=user)] == ["First", "Archived"]
    assert first in selectors.conversation_list_all(user=user)


def test_imports_before_are_found_by_fingerprint_for_their_owner(user, other_user):
    mine, theirs = asked_twice(user), asked_twice(other_user)
    Conversation.objects.filter(pk=mine.pk).update(import_fingerprint="a" * 64)
    Conversation.objects.filter(pk=theirs.pk).update(import_fingerprint="b" * 64)
    found = selectors.conversations_imported_before(
        user=user, fingerprints=["a" * 64, "b" * 64, ""]
    )
    assert list(found) == ["a" * 64] and found["a" * 64].pk == mine.pk
