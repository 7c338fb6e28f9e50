"""One reply, streamed: frames carry only what is new and are paced, however fast the
provider sends; a silent provider is announced while it is waited for; a reply without end
is cut off as at max_tokens; how long it reasoned is kept when it did."""

import threading

import pytest
from channels.db import database_sync_to_async as db

from conversations.models import Message
from tests.fake_upstream import chunk, sse, text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def test_deltas_carry_only_what_is_new_and_are_fewer_than_the_chunks(
    connect, user, fake_upstream
):
    pieces = [f"{i} " for i in range(300)]
    fake_upstream.script(text_stream(*pieces))  # All at once: no delay between chunks.
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="Count")
    deltas = by_type(frames, "message.delta")
    assert "".join(d["content"] for d in deltas) == "".join(pieces) == reply["content"]
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert len(deltas) < len(pieces) / 10  # Coalesced into paced frames.


async def test_a_silent_provider_is_announced_while_it_is_waited_for(
    connect, user, fake_upstream, settings
):
    settings.LLM_READ_TIMEOUT = 5  # Silence is announced after a tenth of it: 0.5 s.
    go = threading.Event()
    reply = text_stream("Late", " but here")
    reply.steps.insert(0, ("wait", go))  # Not a byte until the test has seen the notice.
    fake_upstream.script(reply)
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Hello?"))
    before = await receive_until(ws, "message.waiting")
    assert before[-1]["state"] == "waiting" and not by_type(before, "message.delta")
    go.set()
    after = await receive_until(ws, "message.completed")
    assert "".join(d["content"] for d in by_type(after, "message.delta")) == "Late but here"
    assert after[-1]["message"]["status"] == "complete"


async def test_a_reply_without_end_is_cut_off_as_at_max_tokens(
    connect, user, fake_upstream, settings
):
    settings.CHAT_MAX_REPLY_CHARS = 1000
    fake_upstream.script(text_stream(*["word " * 20] * 200))  # 20,000 characters.
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, content="Go on forever")
    assert reply["status"] == "complete" and reply["finish_reason"] == "length"
    saved = await db(Message.objects.get)(pk=reply["id"])
    assert 1000 < len(saved.content) <= 1000 + len("word " * 20)


async def test_the_reasoning_time_is_kept_only_for_a_reply_that_reasoned(
    connect, user, fake_upstream
):
    fake_upstream.script(
        sse(
            chunk({"role": "assistant", "reasoning_content": "Let me think."}),
            chunk({"reasoning_content": " Still thinking."}),
            chunk({"content": "Answer."}),
            chunk(finish="stop"),
        ),
        text_stream("Plain answer."),
    )
    ws = await open_socket(connect, user)
    frames, reasoned = await full_turn(ws, content="Think first")
    conversation = by_type(frames, "conversation.created")[0]["conversation"]
    _, plain = await full_turn(ws, content="Then answer", conversation=conversation, client_id="c2")
    assert (reasoned["reasoning"], reasoned["content"]) == (
        "Let me think. Still thinking.",
        "Answer.",
    )
    reasoned, plain = [await db(Message.objects.get)(pk=m["id"]) for m in (reasoned, plain)]
    assert reasoned.reasoning_ms is not None and reasoned.reasoning_ms <= reasoned.duration_ms
    assert plain.reasoning_ms is None and plain.first_token_ms is not None
