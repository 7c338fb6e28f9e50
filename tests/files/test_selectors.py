"""Reads of attachments: a user's own only, and a page's in one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services as conversation_services
from conversations.files import selectors, services
from tests import factories
from tests.files.helpers import attach

pytestmark = pytest.mark.django_db


def test_only_the_owners_ids_are_found(user, other_user, tmp_path):
    mine = attach(user, "a.txt", b"a", tmp_path)
    theirs = attach(other_user, "b.txt", b"b", tmp_path)
    assert selectors.attachment_own(user=user, attachment_id=str(mine.pk)) == mine
    assert selectors.attachment_own(user=user, attachment_id=str(theirs.pk)) is None
    assert selectors.attachment_own(user=user, attachment_id="not-a-uuid") is None
    assert selectors.attachments_own(user_id=user.pk, ids=[str(mine.pk)]) == [mine]
    assert selectors.attachments_own(user_id=user.pk, ids=[str(mine.pk), str(theirs.pk)]) is None
    assert selectors.attachments_own(user_id=user.pk, ids=["x"]) is None


def test_a_pages_messages_get_their_files_in_one_query(user, tmp_path):
    conversation = conversation_services.conversation_create(
        owner=user, persona=None, model="m", title="T"
    )
    first = factories.message_append(
        conversation=conversation, role="user", content="1", parent=None
    )
    reply = factories.message_append(
        conversation=conversation, role="assistant", content="r", parent=first
    )
    second = factories.message_append(
        conversation=conversation, role="user", content="2", parent=reply
    )
    a, b = attach(user, "a.txt", b"a", tmp_path), attach(user, "b.txt", b"b", tmp_path)
    services.attachments_link(message=first, attachments=[a, b])
    with CaptureQueriesContext(connection) as queries:
        selectors.with_attachments([first, reply, second])
    assert len(queries) == 1
    assert (first.files, reply.files, second.files) == ([a, b], [], [])
    assert selectors.attachment_data(a) == {
        "id": str(a.pk),
        "name": "a.txt",
        "size": 1,
        "kind": "text",
        "content_type": "text/plain",
        "pages": None,
        "note": "",
    }
    assert selectors.bytes_used(user_id=user.pk) == 2
    assert selectors.unsent_count(user_id=user.pk) == 0


def test_linking_files_marks_the_conversation(user, tmp_path):
    conversation = conversation_services.conversation_create(
        owner=user, persona=None, model="m", title="T"
    )
    message = factories.message_append(
        conversation=conversation, role="user", content="1", parent=None
    )
    services.attachments_link(message=message, attachments=[])
    conversation.refresh_from_db()
    assert conversation.has_files is False
    services.attachments_link(message=message, attachments=[attach(user, "a.txt", b"a", tmp_path)])
    conversation.refresh_from_db()
    assert conversation.has_files is True
