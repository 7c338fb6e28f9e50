"""The process's loops: lease renewal and the progress save never wait on each other, and a
failure of either is logged and tried again, never the end of the loop."""

import asyncio
import logging
import time

import pytest
from channels.db import database_sync_to_async as db
from django.db import connection
from django.utils import timezone

from conversations.chat import runtime
from conversations.limits.models import DailyTokens
from conversations.models import Conversation
from tests.fake_upstream import text_stream
from tests.helpers import open_socket, receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

LEASE = 1.0


def expires_after(conversation_id: int, seconds: float) -> float:
    """Hold the transaction of a batch on the main lane `seconds`; then how long past the
    batch's start the conversation's lease runs, as the database has it now."""
    started = timezone.now()
    time.sleep(seconds)
    expires = Conversation.objects.get(pk=conversation_id).turn_expires_at
    return (expires - started).total_seconds()


async def test_lease_renewal_does_not_wait_behind_a_slow_batch(
    connect, user, fake_upstream, settings
):
    """A batch on the main lane holds its transaction for three leases (a huge finish, a
    slow disk): the turn's lease is renewed meanwhile, on its own connection."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: a batch in the database holds them all")
    settings.CHAT_TURN_LEASE_SECONDS = LEASE
    fake_upstream.script(text_stream(*[f"w{i} " for i in range(80)], delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Go"))
    frames = await receive_until(ws, "message.delta")
    conversation = frames[-1]["conversation"]
    process = runtime.current()
    ahead = await process.commit.run(expires_after, conversation_id=conversation, seconds=3 * LEASE)
    # Renewed while the batch held its transaction: the lease runs past the batch's end.
    assert ahead > 3 * LEASE
    frames = await receive_until(ws, "message.completed", timeout=20)
    assert frames[-1]["message"]["status"] == "complete"


FAIL_TOKENS = """CREATE TRIGGER test_fault BEFORE INSERT ON conversations_dailytokens
    BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END"""


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


async def test_a_failing_write_is_logged_and_tried_again_while_the_loop_goes_on(
    connect, user, fake_upstream, caplog
):
    """Token counts cannot be written for a while: each failure is logged, the counts wait
    in memory, the loop goes on saving replies, and the counts are written once it can."""
    if connection.vendor != "sqlite":
        pytest.skip("fault triggers are written for SQLite")
    caplog.set_level(logging.ERROR, logger="conversations")
    await db(execute)(FAIL_TOKENS)
    fake_upstream.script(text_stream("Counted", usage=(7, 5)))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Go"))
    await receive_until(ws, "message.completed")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while "Writing the token count of user" not in caplog.text:
        assert loop.time() < deadline, "the failing write was not logged"
        await asyncio.sleep(0.1)
    assert not await db(DailyTokens.objects.exists)()
    # The loop goes on: the next reply is saved as it streams.
    fake_upstream.script(text_stream(*[f"w{i} " for i in range(40)], delay=0.05))
    await ws.send_json_to(send_frame(content="More", client_id="c2"))
    await receive_until(ws, "message.completed")
    await db(execute)("DROP TRIGGER test_fault")
    deadline = loop.time() + 10
    while not await db(DailyTokens.objects.filter(user=user).exists)():
        assert loop.time() < deadline, "the counts were never written"
        await asyncio.sleep(0.1)
    used = await db(DailyTokens.objects.get)(user=user)
    assert used.tokens >= 12  # Both replies: the first one's count was kept and retried.
