"""Context budgeting: what fits goes, in order; the system prompt and the latest message always."""

import pytest
from channels.db import database_sync_to_async as db

from conversations import services
from conversations.catalog.models import ModelInfo
from conversations.chat import budget
from conversations.llm import ChatMessage, ToolCall
from conversations.models import Message
from conversations.personas.models import Persona
from tests import factories
from tests.fake_upstream import text_stream
from tests.helpers import full_turn, open_socket

WORDS = "lorem ipsum dolor sit amet " * 20  # about 100 tokens


def wire(role, content, **extra):
    return ChatMessage(role, content, **extra)


def test_counts_with_a_real_tokenizer():
    assert budget.count_tokens("hello world") == 2
    assert budget.message_tokens(wire("user", "hello world")) == 2 + budget.MESSAGE_OVERHEAD


def test_fit_drops_oldest_turns_and_keeps_order():
    history = []
    for i in range(10):
        history += [
            (2 * i, wire("user", f"q{i} {WORDS}")),
            (2 * i + 1, wire("assistant", f"a{i} {WORDS}")),
        ]
    history.append((99, wire("user", "latest")))
    system = wire("system", "Be brief.")
    fitted = budget.fit(system=system, history=history, window=1000, reserve=200)
    assert fitted.messages[0] == system and fitted.messages[-1] == wire("user", "latest")
    kept = fitted.sent
    assert kept == sorted(kept) and kept[-1] == 99
    assert fitted.left_out == list(range(0, kept[0]))  # Only the oldest went.
    assert fitted.estimated_tokens <= 800
    assert 0 < len(kept) < 21


def test_a_tool_call_and_its_results_go_together():
    call = ToolCall(id="c", name="calculator", arguments="{}")
    history = [
        (1, wire("user", "old " + WORDS)),
        (2, wire("assistant", "", tool_calls=(call,))),
        (3, wire("tool", WORDS * 3, tool_call_id="c")),
        (4, wire("assistant", "done")),
        (5, wire("user", "new")),
    ]
    fitted = budget.fit(system=None, history=history, window=300, reserve=100)
    assert fitted.sent == [5] and fitted.left_out == [1, 2, 3, 4]
    roomy = budget.fit(system=None, history=history, window=5000, reserve=100)
    assert roomy.sent == [1, 2, 3, 4, 5]


def test_too_large_is_refused():
    with pytest.raises(budget.TooLarge) as info:
        budget.fit(
            system=wire("system", "x"),
            history=[(1, wire("user", WORDS * 20))],
            window=1000,
            reserve=200,
        )
    assert info.value.needed > 1000 and info.value.available == 800


def test_correction_from_reported_usage_is_bounded():
    assert budget.correction(estimated=100, reported=130) == 1.3
    assert budget.correction(estimated=100, reported=1000) == 2.0
    assert budget.correction(estimated=None, reported=50) == 1.0


def make_long_conversation(user, persona, turns):
    conversation = services.conversation_create(
        owner=user, persona=persona, model="test-model", title="Long"
    )
    parent = None
    for i in range(turns):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"question {i} {WORDS}", parent=parent
        )
        parent = factories.message_append(
            conversation=conversation,
            role="assistant",
            content=f"answer {i} {WORDS}",
            parent=parent,
        )
    return conversation


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_far_larger_conversation_sends_what_fits(connect, user, fake_upstream):
    await db(ModelInfo.objects.create)(model_id="test-model", context_window=2000)
    persona = await db(Persona.objects.create)(
        name="P", system_prompt="Stay on topic.", max_tokens=300
    )
    conversation = await db(make_long_conversation)(user, persona, 60)  # ~12,000 tokens
    fake_upstream.script(text_stream("ok"))
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, content="And now?", conversation=conversation.pk)
    sent = fake_upstream.completions()[0].body["messages"]
    assert sent[0] == {"role": "system", "content": "Stay on topic."}
    assert sent[-1] == {"role": "user", "content": "And now?"}
    assert sent[-2]["content"].startswith("answer 59 ") and sent[-3]["content"].startswith(
        "question 59 "
    )
    numbers = [int(m["content"].split()[1]) for m in sent[1:-1]]
    assert numbers == sorted(numbers) and 2 < len(sent) < 30
    record = reply["request"]
    assert len(record["left_out"]) == 120 - (len(sent) - 2)
    assert record["estimated_prompt_tokens"] <= 2000 - 300
    assert budget.count_tokens(str(sent)) < 2000


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_one_message_too_large_for_the_window_is_refused_before_sending(
    connect, user, fake_upstream
):
    await db(ModelInfo.objects.create)(
        model_id="test-model", display_name="Tiny", context_window=500
    )
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, content=WORDS * 10)
    assert reply["status"] == "error"
    assert reply["error"].startswith("This message is too long for Tiny: it needs about")
    assert fake_upstream.completions() == []
    saved = await db(list)(Message.objects.values_list("role", "status"))
    assert saved == [("user", "complete"), ("assistant", "error")]  # The message is kept.


def test_shipped_encoding_is_tiktokens_cl100k_base():
    import gzip
    import hashlib

    data = gzip.open(budget.ENCODING_FILE).read()
    # The hash tiktoken itself checks for cl100k_base.tiktoken.
    assert (
        hashlib.sha256(data).hexdigest()
        == "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
    )
    assert budget.encoding().n_vocab == 100256
