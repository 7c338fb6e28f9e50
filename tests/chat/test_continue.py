"""Continue: more of a reply, written into the same message, and reasoning times."""

import pytest
from channels.db import database_sync_to_async as db

from conversations.models import Message
from conversations.rendering.markdown import render_markdown
from conversations.review import stats as review_stats
from conversations.review.models import DailyStat
from tests.fake_upstream import chunk, sse, text_stream
from tests.helpers import by_type, full_turn, open_socket, receive_until, send_frame, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

FIRST = "Para one is done.\n\nPara two goes\non and is cut"
MORE = " off no longer.\n\nPara three."


async def cut_off_reply(ws, fake_upstream) -> tuple[int, dict]:
    """A conversation whose reply stopped at the length limit."""
    fake_upstream.script(
        text_stream(
            "Para one ",
            "is done.\n\n",
            "Para two goes\non and is cut",
            finish="length",
            usage=(10, 8),
        )
    )
    frames, reply = await full_turn(ws, content="Write three paragraphs")
    cid = frames[0]["conversation"]
    await wait_idle(cid)
    assert reply["finish_reason"] == "length"
    return cid, reply


async def test_continue_extends_the_same_reply(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    cid, first = await cut_off_reply(ws, fake_upstream)
    fake_upstream.script(text_stream(" off no ", "longer.\n\n", "Para three.", usage=(30, 6)))
    await ws.send_json_to({"type": "chat.continue", "conversation": cid, "message": first["id"]})
    frames = await receive_until(ws, "message.completed")
    await wait_idle(cid)

    # The reply streams again, from where it stopped: its finished blocks first.
    continued = by_type(frames, "message.continued")[0]["message"]
    assert continued["id"] == first["id"] and continued["status"] == "streaming"
    assert continued["content"] == FIRST and continued["seq"] == 0
    assert continued["html"] == "<p>Para one is done.</p>\n"
    assert continued["stable"] == len("Para one is done.\n\n")
    assert by_type(frames, "message.created") == []  # No new message, no new bubble.
    deltas = by_type(frames, "message.delta")
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert "".join(d["content"] for d in deltas) == MORE
    assert all(d["message"] == first["id"] for d in deltas)

    # The end is of the whole reply: the finished blocks and `html` make its HTML.
    done = frames[-1]["message"]
    assert done["id"] == first["id"] and done["content"] == FIRST + MORE
    assert done["status"] == "complete" and done["finish_reason"] == "stop"
    blocks = continued["html"] + "".join(d.get("blocks", "") for d in deltas)
    assert blocks + done["html"] == render_markdown(FIRST + MORE)
    assert done["html_from"] >= continued["stable"]
    assert done["usage"] == {"prompt_tokens": 40, "completion_tokens": 14, "estimated": False}

    # Upstream: the reply as it stood, then an instruction nobody sees as theirs.
    sent = fake_upstream.completions()[-1].body
    assert sent["messages"][-2] == {"role": "assistant", "content": FIRST}
    assert sent["messages"][-1]["role"] == "user"
    assert "Continue your last reply" in sent["messages"][-1]["content"]
    assert "tools" not in sent and "continue_final_message" not in sent
    record = done["request"]
    assert record["continuation"]["method"] == "instruction"
    assert record["continuation"]["from"] == len(FIRST)
    assert record["continuation"]["instruction"] == sent["messages"][-1]["content"]
    assert record["first_request"]["sent"] == first["request"]["sent"]

    # One message, saved whole; the user's words are only theirs.
    saved = await db(list)(Message.objects.filter(conversation_id=cid).order_by("id"))
    assert [(m.role, m.content) for m in saved] == [
        ("user", "Write three paragraphs"),
        ("assistant", FIRST + MORE),
    ]
    assert saved[1].prompt_tokens == 40 and saved[1].completion_tokens == 14
    # The dashboard counts one reply, and both requests' tokens once.
    await db(review_stats.flush)()
    stats = await db(list)(DailyStat.objects.all())
    assert sum(s.replies for s in stats) == 1
    assert sum(s.completion_tokens for s in stats) == 14

    # A new socket opening the conversation sees one reply with all of it.
    ws2 = await open_socket(connect, user)
    await ws2.send_json_to({"type": "conversation.open", "conversation": cid})
    state = (await receive_until(ws2, "conversation.state"))[-1]
    assert [m["content"] for m in state["messages"]] == ["Write three paragraphs", FIRST + MORE]


async def test_continue_can_ask_the_provider_to_prefill(connect, user, fake_upstream, settings):
    settings.LLM_CONTINUE_METHOD = "prefill"
    ws = await open_socket(connect, user)
    cid, first = await cut_off_reply(ws, fake_upstream)
    fake_upstream.script(text_stream(" off."))
    await ws.send_json_to({"type": "chat.continue", "conversation": cid, "message": first["id"]})
    done = (await receive_until(ws, "message.completed"))[-1]["message"]
    sent = fake_upstream.completions()[-1].body
    assert sent["messages"][-1] == {"role": "assistant", "content": FIRST}
    assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
    assert done["content"] == FIRST + " off."
    assert done["request"]["continuation"] == {"method": "prefill", "from": len(FIRST)}


async def test_stopping_a_continuation_keeps_all_of_the_reply(connect, user, fake_upstream):
    ws = await open_socket(connect, user)
    cid, first = await cut_off_reply(ws, fake_upstream)
    fake_upstream.script(sse(*[chunk({"content": f" w{i}"}) for i in range(200)], delay=0.03))
    await ws.send_json_to({"type": "chat.continue", "conversation": cid, "message": first["id"]})
    await receive_until(ws, "message.delta", seq=2)

    # Another tab opening now gets the whole text so far, lined up with the deltas.
    ws2 = await open_socket(connect, user)
    await ws2.send_json_to({"type": "conversation.open", "conversation": cid})
    state = (await receive_until(ws2, "conversation.state"))[-1]
    streaming = state["messages"][-1]
    assert streaming["status"] == "streaming" and streaming["content"].startswith(FIRST + " w0")

    await ws.send_json_to({"type": "chat.stop", "conversation": cid})
    done = (await receive_until(ws, "message.completed"))[-1]["message"]
    assert done["status"] == "stopped" and done["content"].startswith(FIRST + " w0 w1")
    saved = await db(Message.objects.get)(pk=first["id"])
    assert saved.content == done["content"] and saved.status == "stopped"


async def test_only_the_latest_reply_of_ones_own_can_be_continued(
    connect, user, other_user, fake_upstream
):
    ws = await open_socket(connect, user)
    cid, first = await cut_off_reply(ws, fake_upstream)
    mallory = await open_socket(connect, other_user)
    await mallory.send_json_to(
        {"type": "chat.continue", "conversation": cid, "message": first["id"]}
    )
    assert (await mallory.receive_json_from())["code"] == "not_found"
    await ws.send_json_to(
        {"type": "chat.continue", "conversation": cid, "message": first["id"] - 1}
    )
    assert (await ws.receive_json_from())["code"] == "not_found"  # The user's message.

    fake_upstream.script(text_stream("Next answer"))
    await full_turn(ws, content="Next question", client_id="c2", conversation=cid)
    await wait_idle(cid)
    await ws.send_json_to({"type": "chat.continue", "conversation": cid, "message": first["id"]})
    refused = await ws.receive_json_from()
    assert refused["code"] == "bad_request" and "latest reply" in refused["message"]
    saved = await db(Message.objects.get)(pk=first["id"])
    assert saved.status == "complete" and saved.content == FIRST

    # While a reply streams, the conversation is busy.
    fake_upstream.script(sse(*[chunk({"content": "x"}) for i in range(100)], delay=0.03))
    await ws.send_json_to(send_frame("More", client_id="c3", conversation=cid))
    frames = await receive_until(ws, "message.delta")
    streaming = by_type(frames, "message.created")[-1]["message"]["id"]
    await ws.send_json_to({"type": "chat.continue", "conversation": cid, "message": streaming})
    frames = await receive_until(ws, "error")
    assert frames[-1]["code"] == "busy"
    await ws.send_json_to({"type": "chat.stop", "conversation": cid})
    await receive_until(ws, "message.completed")


async def test_reasoning_time_is_saved_and_sent(connect, user, fake_upstream):
    fake_upstream.script(
        sse(
            chunk({"role": "assistant", "reasoning_content": "Let me think."}),
            chunk({"reasoning_content": " Still thinking."}),
            chunk({"content": "Forty-two."}),
            chunk(finish="stop"),
            delay=0.15,
        )
    )
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="Why?")
    assert reply["reasoning"] == "Let me think. Still thinking."
    # From the first reasoning to the first answer text: two pauses of the stream.
    assert 250 <= reply["timing"]["reasoning_ms"] < reply["timing"]["total_ms"]
    saved = await db(Message.objects.get)(pk=reply["id"])
    assert saved.reasoning_ms == reply["timing"]["reasoning_ms"]

    fake_upstream.script(text_stream("Plain."))
    _, plain = await full_turn(
        ws, content="And?", client_id="c2", conversation=frames[0]["conversation"]
    )
    assert plain["timing"]["reasoning_ms"] is None
