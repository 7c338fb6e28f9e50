"""The sweep: a reply whose process is gone is interrupted, its text kept and its watchers
told; one whose process answers for it, though its lease expired, is left alone."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.utils import timezone

from conversations import services
from conversations.chat import broadcast, runtime
from conversations.models import Conversation, Message
from tests import factories
from tests.helpers import eventually, open_socket, receive_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def streaming_reply(user) -> tuple[Conversation, Message]:
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="T")
    question = factories.message_append(
        conversation=conversation, role="user", content="Tell me", parent=None
    )
    reply = factories.message_append(
        conversation=conversation,
        role="assistant",
        content="Half the answer",
        parent=question,
        status=Message.Status.STREAMING,
    )
    return conversation, reply


def lease_expired(conversation: Conversation, owner: str) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        turn_owner=owner, turn_expires_at=timezone.now() - timedelta(seconds=1)
    )


async def test_a_reply_nobody_answers_for_is_interrupted_and_its_watchers_told(connect, user):
    conversation, reply = await db(streaming_reply)(user)
    ws = await open_socket(connect, user)
    await ws.send_json_to({"type": "conversation.open", "conversation": conversation.pk})
    await receive_until(ws, "conversation.state")
    await db(lease_expired)(conversation, "a-process-that-died")
    await runtime.current().sweep_now()
    completed = (await receive_until(ws, "message.completed"))[-1]["message"]
    assert (completed["id"], completed["status"]) == (reply.pk, "interrupted")
    saved = await db(Message.objects.get)(pk=reply.pk)
    assert (saved.status, saved.content) == ("interrupted", "Half the answer")
    conversation = await db(Conversation.objects.get)(pk=conversation.pk)
    assert conversation.turn_owner == "" and conversation.turn_expires_at is None


async def test_a_reply_whose_process_answers_for_it_is_left_alone(user):
    conversation, reply = await db(streaming_reply)(user)
    abandoned, canary = await db(streaming_reply)(user)  # Nobody answers for this one.
    layer = get_channel_layer()
    other = await layer.new_channel()  # The other process's control channel.
    await layer.group_add(broadcast.control_group(conversation.pk), other)
    asked: list[dict] = []

    async def answer_for_it() -> None:
        while True:
            question = await layer.receive(other)
            asked.append(question)
            await layer.send(
                question["reply_to"], {"type": "turn.running", "conversation": conversation.pk}
            )

    answering = asyncio.create_task(answer_for_it())
    try:
        await db(lease_expired)(conversation, "a-process-stuck-on-a-lock")
        await db(lease_expired)(abandoned, "a-process-that-died")
        process = runtime.current()  # It sweeps as it starts: both leases in one sweep.

        async def canary_swept() -> bool:
            return (await db(Message.objects.get)(pk=canary.pk)).status == "interrupted"

        await eventually(canary_swept, what="the sweep")
    finally:
        answering.cancel()
    assert asked and asked[0]["type"] == "turn.alive"
    assert asked[0]["reply_to"] == await process.control_channel()
    saved = await db(Message.objects.get)(pk=reply.pk)
    assert (saved.status, saved.content) == ("streaming", "Half the answer")
    conversation = await db(Conversation.objects.get)(pk=conversation.pk)
    assert conversation.turn_owner == "a-process-stuck-on-a-lock"
