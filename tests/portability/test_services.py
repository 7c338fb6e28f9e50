"""Saving one imported conversation: its tree and dates as the file had them, the message it
shows, fields left out at their defaults, ids never reused, and every message in the
search index."""

from datetime import UTC, datetime

import pytest

from conversations.models import Conversation, Message
from conversations.portability import services
from conversations.portability.schema import NewConversation, NewMessage
from conversations.search import selectors as search
from tests import factories

pytestmark = pytest.mark.django_db
WHEN = datetime(2023, 4, 5, 6, 7, tzinfo=UTC)


def said(role: str, content: str, parent: int | None) -> NewMessage:
    return NewMessage(parent=parent, fields={"role": role, "content": content}, created_at=WHEN)


def branching() -> NewConversation:
    """A question with two versions of its answer; the file shows the first."""
    return NewConversation(
        title="Imported",
        model="org/model",
        pinned=True,
        created_at=WHEN,
        updated_at=WHEN,
        messages=[
            said("user", "What is a quokka?", None),
            said("assistant", "A small marsupial.", 0),
            said("assistant", "A wallaby's cousin.", 0),
        ],
        current=1,
        fingerprint="f" * 64,
    )


def test_the_tree_dates_and_shown_message_are_the_files(user):
    saved = services.conversation_import(owner=user, conversation=branching(), persona=None)
    question, first, second = saved.messages.order_by("id")
    assert first.parent_id == question.pk and second.parent_id == question.pk
    assert saved.current_leaf_id == first.pk
    assert (saved.title, saved.model, saved.pinned, saved.title_source) == (
        "Imported",
        "org/model",
        True,
        Conversation.TitleSource.USER,
    )
    assert saved.created_at == WHEN and saved.updated_at == WHEN
    assert saved.import_fingerprint == "f" * 64
    assert first.created_at == WHEN and first.status == Message.Status.COMPLETE


def test_ids_follow_every_message_made_before_even_deleted_ones(user):
    conversation = Conversation.objects.create(owner=user, title="Before")
    last = factories.message_append(
        conversation=conversation, role="user", content="x", parent=None
    )
    conversation.delete()  # Its id is never given again.
    saved = services.conversation_import(owner=user, conversation=branching(), persona=None)
    assert min(saved.messages.values_list("id", flat=True)) > last.pk


def test_what_was_imported_is_found_by_search(user):
    saved = services.conversation_import(owner=user, conversation=branching(), persona=None)
    for words, shown in (("marsupial", 1), ("cousin", 2)):
        [hit] = search.conversation_search(user_id=user.pk, query=words)
        message = saved.messages.order_by("id")[shown]
        assert (hit["conversation"], hit["message"]) == (saved.pk, message.pk)


def test_a_conversation_without_messages_shows_nothing(user):
    saved = services.conversation_import(
        owner=user, conversation=NewConversation(title="Empty"), persona=None
    )
    assert saved.current_leaf_id is None and not saved.messages.exists()
