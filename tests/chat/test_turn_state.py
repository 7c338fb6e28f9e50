"""A running turn's state: a snapshot shows what frames have carried and nothing more, a
continued reply starts as already sent and saved, progress is taken once and again after
a failed save, a stop is safe at any moment, and a wait counts up or down."""

import asyncio

import pytest

from conversations.chat import runtime, streaming
from conversations.chat.turn_state import Turn, Wait
from conversations.models import Message

pytestmark = [
    pytest.mark.django_db(transaction=True),  # The runtime's loops use the database.
    pytest.mark.usefixtures("no_leftover_replies"),
]


def new_turn() -> Turn:
    turn = Turn(conversation_id=1, user_id=1, process=runtime.current())
    turn.begin(10, {"model": "m"})
    return turn


async def test_a_snapshot_shows_only_what_frames_carried():
    turn = new_turn()
    turn.content.append("Hello, ")
    turn.reasoning.append("Thinking")
    await streaming.send_delta(turn)
    turn.content.append("world")  # Not sent yet.
    shot = turn.snapshot()
    assert (shot.message, shot.content, shot.reasoning, shot.seq) == (
        10,
        "Hello, ",
        "Thinking",
        1,
    )
    assert shot.waiting is None


async def test_a_continued_reply_starts_as_sent_and_saved():
    turn = new_turn()
    earlier = Message(
        pk=10, content="First paragraph.\n\nSecond paragraph.\n\nThird", reasoning="Why"
    )
    turn.begin(10, None, resumed=earlier)
    assert turn.content.take_unsent() == "" and len(turn.content) == len(earlier.content)
    shot = turn.snapshot()
    assert (shot.content, shot.reasoning, shot.seq) == (earlier.content, "Why", 0)
    assert shot.html == "<p>First paragraph.</p>\n"  # Its finished block.
    progress = turn.take_progress()  # Only its record is new.
    assert progress.request is None and turn.take_progress() is None


async def test_progress_is_taken_once_and_again_after_a_failed_save():
    turn = new_turn()
    assert turn.take_progress().request == {"model": "m"}  # The record, once.
    assert turn.take_progress() is None
    turn.content.append("text")
    progress = turn.take_progress()
    assert (progress.message_id, progress.content, progress.request) == (10, "text", None)
    assert turn.take_progress() is None
    turn.progress_failed(progress)
    assert turn.take_progress().content == "text"


async def test_a_stop_is_safe_before_the_start_and_cancels_a_read():
    turn = Turn(conversation_id=1, user_id=1, process=runtime.current())
    turn.request_stop()
    assert turn.stop_requested and turn.stopping.is_set() and not turn.lost
    turn.reading = asyncio.get_running_loop().create_task(asyncio.sleep(60))
    turn.request_stop(lost=True)
    with pytest.raises(asyncio.CancelledError):
        await turn.reading
    assert turn.lost


def test_a_wait_counts_up_while_silent_and_down_to_a_retry():
    assert Wait("waiting", since=100.0, until=100.0).shown(112.4) == {
        "state": "waiting",
        "seconds": 12,
    }
    retry = Wait("retrying", since=100.0, until=130.0, reason="The provider is busy.")
    assert retry.shown(110.0) == {
        "state": "retrying",
        "seconds": 20,
        "reason": "The provider is busy.",
    }
    assert retry.shown(140.0)["seconds"] == 0  # Never below zero.
