"""Per-user limits on turns and sockets, and per-socket frame rates, over the websocket.

Each limit is lowered here from the suite's raised values (chatsite/settings_test.py).
Several processes sharing them: tests/deployment/test_limits_multiprocess.py.
"""

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async as db
from django.contrib.auth.models import Group
from django.utils import timezone

from conversations import services
from conversations.chat import runtime
from conversations.limits import turn_limits
from conversations.limits.models import DailyTokens, TokenQuota
from conversations.models import Conversation, Message
from tests.fake_upstream import text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def slow(pieces: int = 200) -> object:
    return text_stream(*[f"w{i} " for i in range(pieces)], delay=0.05)


async def refused(ws, **match) -> dict:
    """The next error frame (other frames before it are skipped)."""
    frames = await receive_until(ws, "error", **match)
    return frames[-1]


async def test_running_turns_are_limited_per_user_across_conversations(
    connect, user, other_user, fake_upstream, settings
):
    settings.CHAT_MAX_RUNNING_TURNS = 2
    fake_upstream.script(slow(), slow(), text_stream("Fine"))
    ws = await open_socket(connect, user)
    running = []
    for client_id in ("a", "b"):
        await ws.send_json_to(send_frame(client_id=client_id))
        running.append((await receive_until(ws, "message.delta"))[-1]["conversation"])
    await ws.send_json_to(send_frame(client_id="c"))
    error = await refused(ws, client_id="c")

    assert error["code"] == "rate_limited" and error["limit"] == "running_turns"
    assert isinstance(error["retry_after"], int) and error["retry_after"] >= 1
    assert "2 replies" in error["message"]
    assert await db(Conversation.objects.filter(owner=user).count)() == 2  # Nothing saved.
    assert len(fake_upstream.completions()) == 2
    # Someone else is not held back by this user's turns.
    theirs = await open_socket(connect, other_user)
    _, reply = await full_turn(theirs, client_id="x")
    assert reply["status"] == "complete"
    for conversation_id in running:
        await ws.send_json_to({"type": "chat.stop", "conversation": conversation_id})
        await receive_until(ws, "message.completed", timeout=10)


async def test_turns_per_minute_are_limited_and_say_when_to_send_again(
    connect, user, fake_upstream, settings
):
    settings.CHAT_TURNS_PER_MINUTE = 3
    fake_upstream.script(*[text_stream("Hi") for _ in range(3)])
    ws = await open_socket(connect, user)
    for i in range(3):
        await full_turn(ws, client_id=f"m{i}")
    await ws.send_json_to(send_frame(client_id="m3"))
    error = await refused(ws, client_id="m3")

    assert error["code"] == "rate_limited" and error["limit"] == "turns_per_minute"
    # Three at once, then one every 20 s: the next may go 20 s after the first.
    assert 15 <= error["retry_after"] <= 20
    assert "3 messages a minute" in error["message"]
    assert await db(Message.objects.filter(client_id="m3").exists)() is False
    assert len(fake_upstream.completions()) == 3


async def test_a_flood_of_sends_starts_only_what_the_limits_allow(
    connect, user, fake_upstream, settings
):
    """1,000 chat.send frames once made 1,000 upstream calls and 1,001 conversations."""
    settings.CHAT_MAX_RUNNING_TURNS = 3
    settings.CHAT_TURNS_PER_MINUTE = 20
    fake_upstream.script(*[slow() for _ in range(3)])
    ws = await open_socket(connect, user)
    for i in range(200):
        await ws.send_json_to(send_frame(client_id=f"f{i}"))
    errors, running = [], set()
    while len(errors) < 197:
        frame = await ws.receive_json_from(timeout=10)
        if frame["type"] == "error":
            errors.append(frame)
        elif frame["type"] == "message.created":
            running.add(frame["conversation"])

    assert {e["code"] for e in errors} == {"rate_limited"}
    assert len({e["client_id"] for e in errors}) == 197  # Each refused send is named.
    assert await db(Conversation.objects.filter(owner=user).count)() == 3
    assert len(fake_upstream.completions()) == 3
    for conversation_id in running:
        await ws.send_json_to({"type": "chat.stop", "conversation": conversation_id})
    while running:
        frame = await ws.receive_json_from(timeout=10)
        if frame["type"] == "message.completed":
            running.discard(frame["conversation"])


@pytest.mark.parametrize("kind", ["chat.regenerate", "chat.continue"])
async def test_a_regeneration_or_continuation_counts_as_a_turn(
    connect, user, fake_upstream, settings, kind
):
    settings.CHAT_TURNS_PER_MINUTE = 1
    fake_upstream.script(text_stream("One"))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws)
    await ws.send_json_to(
        {"type": kind, "conversation": frames[0]["conversation"], "message": reply["id"]}
    )
    error = await refused(ws)
    assert error["code"] == "rate_limited" and error["limit"] == "turns_per_minute"
    assert len(fake_upstream.completions()) == 1


async def test_daily_tokens_stop_turns_until_midnight(connect, user, fake_upstream, settings):
    settings.CHAT_DAILY_TOKENS = 100
    fake_upstream.script(text_stream("Big", usage=(80, 30)))
    ws = await open_socket(connect, user)
    await full_turn(ws, client_id="t1")
    await runtime.current().write_tokens()  # The save loop does this every second.
    assert await db(DailyTokens.objects.get)(user=user) is not None
    await ws.send_json_to(send_frame(client_id="t2"))
    error = await refused(ws, client_id="t2")

    assert error["code"] == "rate_limited" and error["limit"] == "daily_tokens"
    now = timezone.now()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    assert abs(error["retry_after"] - (midnight - now).total_seconds()) < 5
    assert "100 tokens" in error["message"]
    assert len(fake_upstream.completions()) == 1


async def test_tokens_are_counted_across_processes_within_a_second(
    connect, user, fake_upstream, settings
):
    """The save loop writes token counts on its own: no test hook needed."""
    settings.CHAT_DAILY_TOKENS = 100
    fake_upstream.script(text_stream("Big", usage=(80, 30)))
    ws = await open_socket(connect, user)
    await full_turn(ws)
    deadline = asyncio.get_running_loop().time() + 5
    while not await db(DailyTokens.objects.filter(user=user, tokens=110).exists)():
        assert asyncio.get_running_loop().time() < deadline, "token counts were not written"
        await asyncio.sleep(0.1)


async def test_a_stopped_reply_still_counts_its_prompt(connect, user, fake_upstream, settings):
    fake_upstream.script(slow())
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="x " * 400))
    frames = await receive_until(ws, "message.delta")
    await ws.send_json_to({"type": "chat.stop", "conversation": frames[-1]["conversation"]})
    await receive_until(ws, "message.completed")
    await runtime.current().write_tokens()
    used = await db(DailyTokens.objects.get)(user=user)
    assert used.tokens >= 400  # The estimated prompt, though the provider reported nothing.


async def test_staff_quotas_for_a_user_or_their_groups_replace_the_default(
    connect, user, fake_upstream, settings
):
    settings.CHAT_DAILY_TOKENS = 100
    await db(DailyTokens.objects.create)(user=user, day=timezone.now().date(), tokens=150)
    group = await db(Group.objects.create)(name="Heavy users")
    await db(user.groups.add)(group)
    await db(TokenQuota.objects.create)(group=group, daily_tokens=1000)
    fake_upstream.script(text_stream("Allowed"), text_stream("Allowed again"))
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, client_id="g1")
    assert reply["status"] == "complete"  # The group's 1,000 beats the default 100.

    await db(TokenQuota.objects.create)(user=user, daily_tokens=120)
    await ws.send_json_to(send_frame(client_id="u1"))
    error = await refused(ws, client_id="u1")
    assert error["limit"] == "daily_tokens" and "120 tokens" in error["message"]

    await db(TokenQuota.objects.filter(user=user).update)(daily_tokens=None)  # No limit.
    _, reply = await full_turn(ws, client_id="u2")
    assert reply["status"] == "complete"


async def test_sockets_per_user_are_limited(connect, user, other_user, settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    first = await open_socket(connect, user)
    await open_socket(connect, user)
    third = await connect(user)
    connected, _ = await third.connect()
    assert connected  # Accepted, so the page is told why, then closed.
    error = await third.receive_json_from()
    assert error["code"] == "rate_limited" and error["limit"] == "sockets"
    assert error["retry_after"] >= 1
    closed = await third.receive_output()
    assert closed == {"type": "websocket.close", "code": 4429}
    await open_socket(connect, other_user)  # Another user has slots of their own.

    await first.disconnect()
    again = await open_socket(connect, user)  # A closed socket frees its slot.
    await again.send_json_to({"type": "conversation.open", "conversation": 999999})
    assert (await again.receive_json_from())["code"] == "not_found"


async def test_frames_per_socket_are_limited_and_a_flood_is_closed(
    connect, user, fake_upstream, settings
):
    settings.CHAT_SOCKET_FRAMES_PER_MINUTE = 5
    ws = await open_socket(connect, user)
    for _ in range(5):
        await ws.send_json_to({"type": "conversation.open", "conversation": 999999})
        assert (await ws.receive_json_from())["code"] == "not_found"
    await ws.send_json_to(send_frame(client_id="late"))
    error = await ws.receive_json_from()
    assert error["code"] == "rate_limited" and error["limit"] == "frames"
    assert error["client_id"] == "late"  # The page gives the text back.
    assert 50 <= error["retry_after"] <= 60
    await ws.send_to(text_data="not even JSON")  # Every frame counts, good or bad.
    assert (await ws.receive_json_from())["limit"] == "frames"
    for _ in range(3):  # Refused: five in a row now, a minute's worth.
        await ws.send_to(text_data="{}")
        assert (await ws.receive_json_from())["limit"] == "frames"
    await ws.send_to(text_data="{}")  # A client that goes on regardless is closed.
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4429}
    assert len(fake_upstream.completions()) == 0


async def test_reads_are_limited_per_user_across_sockets(connect, user, settings):
    settings.CHAT_READS_PER_MINUTE = 3
    conversation = await db(services.conversation_create)(
        owner=user, persona=None, model="test-model", title="T"
    )
    one, two = await open_socket(connect, user), await open_socket(connect, user)
    for ws in (one, two, one):
        await ws.send_json_to({"type": "conversation.open", "conversation": conversation.pk})
        assert (await ws.receive_json_from())["type"] == "conversation.state"
    await two.send_json_to(
        {"type": "conversation.history", "conversation": conversation.pk, "before": 1}
    )
    error = await two.receive_json_from()
    assert error["code"] == "rate_limited" and error["limit"] == "reads"
    assert 1 <= error["retry_after"] <= 60


async def test_writes_are_limited_per_user(connect, user, settings):
    settings.CHAT_WRITES_PER_MINUTE = 2
    conversation = await db(services.conversation_create)(
        owner=user, persona=None, model="test-model", title="T"
    )
    ws = await open_socket(connect, user)
    for title in ("One", "Two"):
        await ws.send_json_to(
            {"type": "conversation.rename", "conversation": conversation.pk, "title": title}
        )
        assert (await ws.receive_json_from())["type"] == "conversation.updated"
    await ws.send_json_to(
        {"type": "conversation.pin", "conversation": conversation.pk, "pinned": True}
    )
    error = await ws.receive_json_from()
    assert error["code"] == "rate_limited" and error["limit"] == "writes"
    await db(conversation.refresh_from_db)()
    assert conversation.title == "Two" and not conversation.pinned


async def test_a_change_of_a_conversations_settings_is_a_write(connect, user, settings):
    settings.CHAT_WRITES_PER_MINUTE = 2
    conversation = await db(services.conversation_create)(
        owner=user, persona=None, model="test-model", title="T"
    )
    ws = await open_socket(connect, user)
    change = {"type": "conversation.settings", "conversation": conversation.pk}
    for temperature in (0.5, 0.7):
        await ws.send_json_to(change | {"temperature": temperature})
        assert (await ws.receive_json_from())["type"] == "conversation.updated"
    await ws.send_json_to(change | {"temperature": 1.5})
    error = await ws.receive_json_from()
    assert error["type"] == "error", error
    assert error["code"] == "rate_limited" and error["limit"] == "writes"
    await ws.send_json_to(  # Writes of other kinds share the count.
        {"type": "conversation.rename", "conversation": conversation.pk, "title": "New"}
    )
    assert (await ws.receive_json_from())["limit"] == "writes"
    await db(conversation.refresh_from_db)()
    assert conversation.temperature == 0.7 and conversation.title == "T"


async def test_a_resend_is_answered_even_over_a_limit(connect, user, fake_upstream, settings):
    """A reconnecting page sends unacknowledged messages again: those are never refused."""
    settings.CHAT_TURNS_PER_MINUTE = 1
    fake_upstream.script(text_stream("Once"))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, client_id="same")
    await ws.send_json_to(send_frame(client_id="same"))
    again = await receive_until(ws, "message.created")
    assert not by_type(again, "error")
    assert again[-1]["message"]["client_id"] == "same"
    assert again[-1]["conversation"] == frames[0]["conversation"]


async def test_an_account_deleted_before_its_count_is_written_costs_the_others_nothing(
    user, other_user
):
    """The token counts of several users are written together: one whose account is gone
    (its row's foreign key would fail the whole transaction at commit) is dropped, and
    every other count is written at once, not retried for ever."""
    turn_limits.record_tokens(user_id=user.pk, tokens=70)
    turn_limits.record_tokens(user_id=other_user.pk, tokens=30)
    gone = other_user.pk
    await db(other_user.delete)()
    process = runtime.current()
    await process.write_tokens()
    assert await db(lambda: dict(DailyTokens.objects.values_list("user_id", "tokens")))() == {
        user.pk: 70
    }
    assert turn_limits.pending_tokens(gone, timezone.now().date()) == 0
    await runtime.shutdown()
