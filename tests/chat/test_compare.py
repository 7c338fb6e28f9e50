"""Compares over the websocket: two to four replies to one message, written at once, each
stoppable on its own; one turn, one lease; the user's choice, blind or not, and the
conversation going on from the chosen reply while the others stay as versions."""

import pytest
from channels.db import database_sync_to_async as db

from conversations.chat import compare_actions, inbound, lifecycle
from conversations.compare import selectors as compare_selectors
from conversations.compare import services as compare_services
from conversations.compare.models import CompareGroup, CompareSettings, Preference
from conversations.errors import TurnRefused
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.turns import compare as turn_compare
from tests.fake_upstream import text_stream
from tests.helpers import by_type, eventually, open_socket, receive_until, send_frame, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

A, B, C = "m/alpha", "m/beta", "m/gamma"


@pytest.fixture(autouse=True)
def provider_lists_them(fake_upstream):
    fake_upstream.list_models(A, B, C)


def compare_of(*models, **extra) -> dict:
    return {"compare": [{"model": m} for m in models], **extra}


async def until_all_completed(ws, count: int, timeout: float = 10.0) -> list[dict]:
    frames, done = [], 0
    while done < count:
        more = await receive_until(ws, "message.completed", timeout=timeout)
        frames += more
        done += 1
    return frames


async def test_three_models_stream_at_once_as_versions_of_one_turn(connect, user, fake_upstream):
    for model, word in ((A, "Alpha"), (B, "Beta"), (C, "Gamma")):
        fake_upstream.route_model(model, text_stream(word, " says", " hi.", delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Which?", **compare_of(A, B, C, blind=False)))
    frames = await until_all_completed(ws, 3)
    cid = frames[0]["conversation"]
    created = [f["message"] for f in by_type(frames, "message.created")]
    prompt, replies = created[0], created[1:]
    assert prompt["role"] == "user" and len(replies) == 3
    assert [r["compare"]["slot"] for r in replies] == [0, 1, 2]
    assert [r["compare"]["label"] for r in replies] == [A, B, C]
    assert all(r["parent"] == prompt["id"] for r in replies)
    completed = {f["message"]["id"]: f["message"] for f in by_type(frames, "message.completed")}
    assert {completed[r["id"]]["content"] for r in replies} == {
        "Alpha says hi.",
        "Beta says hi.",
        "Gamma says hi.",
    }
    assert all(m["timing"]["total_ms"] is not None for m in completed.values())
    assert sorted(r.body["model"] for r in fake_upstream.completions()) == [A, B, C]
    # The deltas of the three interleave: they went out at once, not one after another.
    order = [f["message"] for f in by_type(frames, "message.delta")]
    first_done = next(i for i, f in enumerate(frames) if f["type"] == "message.completed")
    assert len({m for m in order[: first_done - 4]}) > 1
    await wait_idle(cid)
    conversation = await db(Conversation.objects.get)(pk=cid)
    assert conversation.turn_owner == "" and conversation.current_leaf_id == replies[0]["id"]
    group = await db(CompareGroup.objects.get)(prompt_id=prompt["id"])
    assert group.blind is False

    # Reopened before a choice: the state offers the compare's three replies again.
    await ws.send_json_to({"type": "conversation.open", "conversation": cid})
    state = (await receive_until(ws, "conversation.state"))[-1]
    assert [m["id"] for m in state["compare"]["replies"]] == [r["id"] for r in replies]
    assert state["messages"][-1]["siblings"] == [r["id"] for r in replies]
    await ws.disconnect()


async def test_one_reply_stopped_mid_stream_leaves_the_others_going(connect, user, fake_upstream):
    fake_upstream.route_model(A, text_stream(*["a"] * 200, delay=0.03))
    fake_upstream.route_model(B, text_stream("Beta", " done.", delay=0.05))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Go", **compare_of(A, B, blind=False)))
    frames = await receive_until(ws, "message.delta")
    replies = [f["message"] for f in by_type(frames, "message.created")][1:]
    slow = next(r for r in replies if r["compare"]["label"] == A)
    frames += await receive_until(ws, "message.delta", message=slow["id"])
    await ws.send_json_to(
        {"type": "chat.stop", "conversation": frames[0]["conversation"], "message": slow["id"]}
    )
    frames += await until_all_completed(ws, 2 - len(by_type(frames, "message.completed")))
    ended = {f["message"]["id"]: f["message"] for f in by_type(frames, "message.completed")}
    assert ended[slow["id"]]["status"] == "stopped"
    assert 0 < len(ended[slow["id"]]["content"]) < 200  # Its text so far is kept.
    other = next(r for r in replies if r["id"] != slow["id"])
    assert ended[other["id"]]["status"] == "complete"
    assert ended[other["id"]]["content"] == "Beta done."
    await wait_idle(frames[0]["conversation"])
    await ws.disconnect()


async def test_a_blind_choice_reveals_the_names_and_the_chat_goes_on_from_the_winner(
    connect, user, fake_upstream
):
    await db(CompareSettings.objects.create)(pk=1, blind_by_default=True)
    for model, text in ((A, "Answer one."), (B, "Answer two."), (C, "Answer three.")):
        fake_upstream.route_model(model, text_stream(text))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Pick", **compare_of(A, B, C)))  # Site default.
    frames = await until_all_completed(ws, 3)
    cid = frames[0]["conversation"]
    shown = [f["message"] for f in frames if f["type"] in ("message.created", "message.completed")]
    replies = [m for m in shown if m["role"] == "assistant"]
    assert all(m["model"] == "" and m["request"] is None for m in replies)  # Nothing names it.
    assert {m["compare"]["label"] for m in replies} == {
        f"Model {slot}" for slot in compare_selectors.SLOT_NAMES[:3]
    }
    assert all(m["compare"]["blind"] and not m["compare"]["revealed"] for m in replies)
    await wait_idle(cid)
    completed = {f["message"]["id"]: f["message"] for f in by_type(frames, "message.completed")}
    winner = next(m for m in completed.values() if m["content"] == "Answer two.")

    await ws.send_json_to(
        {
            "type": "compare.choose",
            "conversation": cid,
            "group": winner["compare"]["group"],
            "verdict": "winner",
            "message": winner["id"],
            "reason": "Shorter.",
        }
    )
    frames = await receive_until(ws, "conversation.state")
    chosen = by_type(frames, "compare.chosen")[0]
    assert chosen["chosen"] == winner["id"] and chosen["verdict"] == "winner"
    assert {r["label"] for r in chosen["replies"]} == {A, B, C}  # Revealed.
    state = frames[-1]
    assert state["compare"] is None
    leaf = state["messages"][-1]
    assert leaf["id"] == winner["id"] and leaf["model"] == B
    assert leaf["compare"]["revealed"] and leaf["compare"]["chosen"]
    assert sorted(leaf["siblings"]) == sorted(completed)  # The others are versions.
    preference = await db(Preference.objects.select_related("chosen").get)(conversation_id=cid)
    assert preference.blind and preference.chosen.model == B and preference.reason == "Shorter."

    fake_upstream.script(text_stream("Next."))
    await ws.send_json_to(send_frame(content="And then?", client_id="c2", conversation=cid))
    await receive_until(ws, "message.completed")
    sent = fake_upstream.completions()[-1].body
    said = [m["content"] for m in sent["messages"] if m["role"] == "assistant"]
    assert said == ["Answer two."]  # The winner's branch, not the others'.
    await wait_idle(cid)
    await ws.disconnect()


async def test_a_compare_counts_each_reply_against_the_limits_before_any_starts(
    connect, user, fake_upstream, settings
):
    settings.CHAT_MAX_RUNNING_TURNS = 2
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Three", **compare_of(A, B, C)))
    error = (await receive_until(ws, "error"))[-1]
    assert error["code"] == "rate_limited" and "compare of 3" in error["message"]
    assert not await db(Message.objects.exists)()  # Nothing was saved, nothing started.
    assert fake_upstream.completions() == []
    await ws.disconnect()


async def test_choosing_is_refused_while_replies_stream_and_for_someone_elses_compare(
    connect, user, other_user, fake_upstream
):
    fake_upstream.route_model(A, text_stream(*["a"] * 100, delay=0.03))
    fake_upstream.route_model(B, text_stream("b"))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Go", **compare_of(A, B, blind=False)))
    frames = await receive_until(ws, "message.delta")
    cid = frames[0]["conversation"]
    reply = [f["message"] for f in by_type(frames, "message.created")][1]
    choose = {
        "type": "compare.choose",
        "conversation": cid,
        "group": reply["compare"]["group"],
        "verdict": "tie",
    }
    await ws.send_json_to(choose)
    frames += await receive_until(ws, "error")
    assert frames[-1]["code"] == "busy"
    await ws.send_json_to({"type": "chat.stop", "conversation": cid})
    done = len(by_type(frames, "message.completed"))  # The quick one may be done already.
    await until_all_completed(ws, 2 - done)
    await wait_idle(cid)
    await eventually(lambda: lifecycle.local(cid) is None)

    other = await open_socket(connect, other_user)
    await other.send_json_to(choose)
    assert (await receive_until(other, "error"))[-1]["code"] == "not_found"
    await ws.send_json_to(choose | {"group": reply["compare"]["group"] + 1000})
    assert (await receive_until(ws, "error"))[-1]["code"] == "not_found"
    await ws.send_json_to(choose | {"verdict": "winner"})  # A winner must be named.
    assert (await receive_until(ws, "error"))[-1]["code"] == "bad_request"
    await other.disconnect()
    await ws.disconnect()


async def test_personas_are_compared_with_their_own_prompts(connect, user, fake_upstream):
    terse = await db(Persona.objects.create)(name="Terse", model=A, system_prompt="Be terse.")
    wordy = await db(Persona.objects.create)(name="Wordy", model=B, system_prompt="Be wordy.")
    fake_upstream.route_model(A, text_stream("Short."))
    fake_upstream.route_model(B, text_stream("Long long."))
    ws = await open_socket(connect, user)
    frame = send_frame(
        content="Hi",
        compare=[{"persona": terse.pk}, {"persona": wordy.pk}],
        blind=False,
    )
    await ws.send_json_to(frame)
    frames = await until_all_completed(ws, 2)
    labels = [f["message"]["compare"]["label"] for f in by_type(frames, "message.created")[1:]]
    assert labels == [f"Terse · {A}", f"Wordy · {B}"]
    systems = {
        r.body["model"]: r.body["messages"][0]["content"] for r in fake_upstream.completions()
    }
    assert "Be terse." in systems[A] and "Be wordy." in systems[B]
    await wait_idle(frames[0]["conversation"])
    await ws.disconnect()


@pytest.mark.parametrize(
    ("compare", "words"),
    [
        ([{"model": A}], "2 to 4"),
        ([{"model": A}] * 5, "2 to 4"),
        ([{"model": A}, {}], "names a model or a persona"),
        ("A,B", "'compare' must be a list"),
    ],
)
async def test_a_bad_compare_is_refused_saying_why(connect, user, compare, words):
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="x", compare=compare))
    error = (await receive_until(ws, "error"))[-1]
    assert error["code"] == "bad_request" and words in error["message"]
    await ws.disconnect()


def test_a_compare_is_parsed_into_the_turns_own_specs():
    _, request = inbound.parse(
        send_frame(content="x", compare=[{"model": f" {A} "}, {"persona": 3}], blind=True)
    )
    assert request.compare == [
        turn_compare.CompareSpec(model=A),
        turn_compare.CompareSpec(persona=3),
    ]
    assert request.blind is True


async def test_a_choice_names_a_reply_of_its_own_compare(connect, user, other_user, fake_upstream):
    fake_upstream.route_model(A, text_stream("a"), text_stream("a2"))
    fake_upstream.route_model(B, text_stream("b"), text_stream("b2"))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="One", **compare_of(A, B, blind=False)))
    frames = await until_all_completed(ws, 2)
    cid = frames[0]["conversation"]
    await wait_idle(cid)
    await ws.send_json_to(
        send_frame(content="Two", client_id="c2", conversation=cid, **compare_of(A, B))
    )
    later = await until_all_completed(ws, 2)
    await wait_idle(cid)
    first = by_type(frames, "message.created")[1]["message"]["compare"]["group"]
    stranger = by_type(later, "message.created")[1]["message"]["id"]
    with pytest.raises(TurnRefused) as refused:  # A reply of the other compare.
        await compare_actions.choose(
            user=user, conversation_id=cid, group_id=first, verdict="winner",
            message_id=stranger, reason="",
        )  # fmt: skip
    assert refused.value.code == "bad_request"
    with pytest.raises(TurnRefused) as refused:  # Someone else's conversation.
        await compare_actions.choose(
            user=other_user, conversation_id=cid, group_id=first, verdict="tie",
            message_id=None, reason="",
        )  # fmt: skip
    assert refused.value.code == "not_found"
    assert not await db(Preference.objects.exists)()

    def choose_no_winner():
        group = compare_selectors.group_in(conversation_id=cid, group_id=first)
        compare_services.preference_choose(
            user=user, conversation=group.conversation, group=group, verdict="winner",
            message_id=None, reason="",
        )  # fmt: skip

    with pytest.raises(compare_services.NotChosen):
        await db(choose_no_winner)()
    await ws.disconnect()


async def test_the_conversation_stays_busy_until_the_last_reply_of_a_compare_ends(
    connect, user, fake_upstream
):
    fake_upstream.route_model(A, text_stream("Quick."))
    fake_upstream.route_model(B, text_stream(*["b"] * 60, delay=0.03))
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="Go", **compare_of(A, B, blind=False)))
    frames = await receive_until(ws, "message.completed")  # The quick one.
    cid = frames[0]["conversation"]
    saved = await db(Conversation.objects.get)(pk=cid)
    assert saved.turn_owner != ""  # Its end did not give the lease back: B still streams.
    await ws.send_json_to(send_frame(content="Too soon", client_id="c2", conversation=cid))
    frames += await receive_until(ws, "error")
    assert frames[-1]["code"] == "busy"
    await receive_until(ws, "message.completed")
    await wait_idle(cid)
    saved = await db(Conversation.objects.get)(pk=cid)
    assert saved.turn_owner == ""
    await ws.disconnect()


async def test_a_reason_longer_than_its_bound_is_refused(connect, user):
    ws = await open_socket(connect, user)
    choose = {"type": "compare.choose", "conversation": 1, "group": 1, "verdict": "tie"}
    await ws.send_json_to(choose | {"reason": "x" * 2001})
    error = (await receive_until(ws, "error"))[-1]
    assert error["code"] == "bad_request"
    assert error["message"] == "'reason' must be at most 2,000 characters."
    await ws.send_json_to(choose | {"verdict": "better"})
    error = (await receive_until(ws, "error"))[-1]
    assert error["message"] == "'verdict' must be winner, tie or both_bad."
    await ws.disconnect()
