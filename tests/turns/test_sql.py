"""A turn's statements, built once (turn_sql.py), write and read what the ORM would."""

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.turns import sql as turn_sql

pytestmark = pytest.mark.django_db

SET_BY_THE_DATABASE = {"id", "client_id", "created_at", "updated_at"}


def _row(message: Message) -> dict:
    row = Message.objects.filter(pk=message.pk).values().get()
    return {k: v for k, v in row.items() if k not in SET_BY_THE_DATABASE}


def test_an_insert_writes_the_row_save_would_write(user):
    conversation = Conversation(owner=user, title="Hello")
    turn_sql.insert(conversation)
    now = timezone.now()
    fast = Message(
        conversation=conversation,
        role=Message.Role.USER,
        content="Hi",
        client_id="a",
        selected_at=now,
    )
    turn_sql.insert(fast)
    orm = Message.objects.create(
        conversation=conversation,
        role=Message.Role.USER,
        content="Hi",
        client_id="b",
        selected_at=now,
    )
    assert fast.pk and not fast._state.adding
    assert fast.created_at is not None and fast.updated_at is not None
    assert _row(fast) == _row(orm)
    assert Conversation.objects.get(pk=conversation.pk).title == "Hello"


def test_update_and_get_match_the_orm(user):
    conversation = Conversation.objects.create(owner=user, title="T")
    reply = Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT)
    fields = {
        "content": "Done",
        "status": Message.Status.COMPLETE,
        "tool_calls": [{"id": "1", "name": "calculator", "arguments": "{}"}],
        "request": {"model": "m", "sent": [1]},
        "prompt_tokens": 3,
        "updated_at": timezone.now(),
    }
    assert turn_sql.update(Message, reply.pk, fields) == 1
    saved = turn_sql.get(Message, reply.pk)
    assert saved == Message.objects.get(pk=reply.pk)
    for name, value in fields.items():
        assert getattr(saved, name) == value
    assert turn_sql.update(Message, 10**9, {"content": "x"}) == 0
    assert turn_sql.get(Message, 10**9) is None


def test_a_lease_is_released_only_by_its_owner(user):
    conversation = Conversation.objects.create(owner=user, title="T", turn_owner="p1")
    reply = Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT)
    turn_sql.release_by_message(message_id=reply.pk, owner="p2")
    assert Conversation.objects.get(pk=conversation.pk).turn_owner == "p1"
    turn_sql.release_by_message(message_id=reply.pk, owner="p1")
    assert Conversation.objects.get(pk=conversation.pk).turn_owner == ""
