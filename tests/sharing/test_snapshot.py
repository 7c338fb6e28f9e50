"""A snapshot holds the branch the owner sees: messages, rendered replies, tool steps and
files' descriptions; never a reply's request or the instructions unless asked for."""

import json

import pytest

from conversations.models import Message
from conversations.sharing import snapshot
from tests.factories import message_append
from tests.sharing.helpers import shared_conversation

pytestmark = pytest.mark.django_db


def test_the_active_branch_with_html_tool_steps_and_files(user, tmp_path):
    conversation = shared_conversation(user, tmp_path)
    taken = snapshot.take(conversation=conversation, include_instructions=False)
    messages = taken["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert (
        messages[0]["files"][0]["name"] == "notes.txt" and "sha256" not in messages[0]["files"][0]
    )
    assert messages[1]["tool_calls"] == [
        {"id": "c1", "name": "calculator", "arguments": '{"expression": "6*7"}'}
    ]
    assert messages[2] == messages[2] | {"tool_name": "calculator", "content": "42"}
    assert messages[3]["html"] == "<p>The answer is <strong>42</strong>.</p>\n"
    assert taken["instructions"] is None
    text = json.dumps(taken)
    assert "Be terse." not in text and "request" not in text
    assert snapshot.file_ids(taken) == {messages[0]["files"][0]["id"]}


def test_only_the_branch_shown_is_taken(user):
    conversation = shared_conversation(user)
    first = conversation.messages.order_by("id").first()
    message_append(
        conversation=conversation, role=Message.Role.ASSISTANT, content="Other branch", parent=first
    )
    conversation.refresh_from_db()
    taken = snapshot.take(conversation=conversation, include_instructions=False)
    assert [m["content"] for m in taken["messages"]] == ["What is it?", "Other branch"]


def test_instructions_when_asked_for(user):
    from conversations.accounts.models import UserSettings

    UserSettings.objects.create(user=user, custom_instructions="Call me Al.")
    taken = snapshot.take(conversation=shared_conversation(user), include_instructions=True)
    assert taken["instructions"] == "Be terse.\n\nCall me Al."


def test_a_snapshot_past_the_bound_is_refused(user, settings):
    settings.CHAT_SHARE_MAX_BYTES = 100
    with pytest.raises(snapshot.TooLarge):
        snapshot.take(
            conversation=shared_conversation(user, reply="x" * 200), include_instructions=False
        )
