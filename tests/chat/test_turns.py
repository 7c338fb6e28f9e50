"""Taking a turn in: a message that is blank, too long or names a model turned off is
refused before anything is saved or sent; another user's conversation is no one's to
stop, exactly as a missing one."""

import pytest
from channels.db import database_sync_to_async as db

from conversations import services
from conversations.catalog.models import ModelInfo
from conversations.models import Conversation, Message
from tests.helpers import open_socket, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def nothing_saved_or_sent(fake_upstream) -> None:
    assert await db(Message.objects.count)() == 0
    assert await db(Conversation.objects.count)() == 0
    assert fake_upstream.completions() == []


async def test_a_blank_or_too_long_message_is_refused(connect, user, fake_upstream, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 5
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(" \n\t ", client_id="blank"))
    blank = await ws.receive_json_from()
    assert (blank["code"], blank["message"], blank["client_id"]) == (
        "bad_request",
        "The message is empty.",
        "blank",
    )
    await ws.send_json_to(send_frame("x" * 1234, client_id="long"))
    long = await ws.receive_json_from()
    assert (long["code"], long["message"]) == (
        "too_long",
        "The message is 1,234 characters; the limit is 5.",
    )
    await nothing_saved_or_sent(fake_upstream)


async def test_a_model_turned_off_is_refused_before_anything_is_saved(connect, user, fake_upstream):
    await db(ModelInfo.objects.create)(model_id="test-model", enabled=False)
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame("Hello", model="test-model"))
    refused = await ws.receive_json_from()
    assert (refused["code"], refused["field"], refused["model"]) == (
        "bad_request",
        "model",
        "test-model",
    )
    await nothing_saved_or_sent(fake_upstream)


async def test_stopping_another_users_conversation_is_as_stopping_a_missing_one(
    connect, user, other_user
):
    theirs = await db(services.conversation_create)(
        owner=other_user, persona=None, model="m", title="Theirs"
    )
    ws = await open_socket(connect, user)
    answers = []
    for conversation in (theirs.pk, theirs.pk + 1000):
        await ws.send_json_to({"type": "chat.stop", "conversation": conversation})
        answers.append(await ws.receive_json_from())
    assert answers[0] == answers[1]
    assert (answers[0]["code"], answers[0]["message"]) == (
        "not_found",
        "That conversation does not exist.",
    )
