"""Writes for running turns: one start transaction, leases, progress saves and the sweep."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import services
from conversations.accounts.models import UserSettings
from conversations.chat import assembly, generation
from conversations.chat.assembly import TurnOptions
from conversations.errors import TurnRefused
from conversations.models import Conversation, Message
from conversations.provider import catalog
from conversations.turns import running as running_turns
from conversations.turns import starts as turn_starts
from tests import factories

pytestmark = pytest.mark.django_db


def make_conversation(owner, *, turns=1) -> Conversation:
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title="T")
    parent = None
    for i in range(turns):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"q{i}", parent=parent
        )
        parent = factories.message_append(
            conversation=conversation, role="assistant", content=f"a{i}", parent=parent
        )
    return conversation


def begin(user, conversation, client_id="c1", owner="p1", content="next"):
    with transaction.atomic():
        return turn_starts.turn_begin_send(
            user=user,
            owner=owner,
            client_id=client_id,
            conversation_id=conversation.pk,
            content=content,
        )


def test_a_turn_start_takes_the_same_few_queries_whatever_the_length(user):
    counts = []
    # The first start also makes the user's allowance row and loads the model rows.
    for turns in (1, 1, 40):
        conversation = make_conversation(user, turns=turns)
        with CaptureQueriesContext(connection) as ctx:
            begun = begin(user, conversation)
            plan = assembly.plan_reply(
                conversation=begun.conversation,
                branch=begun.branch,
                info=catalog.model_info(begun.reply.model),
            )
        counts.append(sum(1 for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]))
        assert len(plan.request.messages) == turns * 2 + 1
        assert begun.reply.status == "streaming" and begun.reply.parent_id == begun.user_message.pk
        conversation.refresh_from_db()
        assert conversation.current_leaf_id == begun.reply.pk and conversation.turn_owner == "p1"
    # Six for the turn, three for the user's limits (lock and read, count running, count this).
    assert counts[1] == counts[2] <= 9


def test_the_start_reads_custom_instructions_with_the_limits_and_planning_reads_nothing(user):
    """The plan needs the owner's custom instructions: read by the start's limits statement,
    not by a trip of its own after the commit, before the request can leave."""
    UserSettings.objects.create(user=user, custom_instructions="Answer in French.")
    plan = generation.planner(TurnOptions())
    plan(begin(user, make_conversation(user), client_id="warm"))  # Loads the model catalog.
    begun = begin(user, make_conversation(user))
    assert begun.custom_instructions == "Answer in French."
    with CaptureQueriesContext(connection) as ctx:
        started = plan(begun)
    assert ctx.captured_queries == []
    assert started.plan.record["custom_instructions"] == "Answer in French."
    assert "Answer in French." in started.plan.request.messages[0].content


def test_the_lease_refuses_a_second_turn_until_released_or_expired(user):
    conversation = make_conversation(user)
    begin(user, conversation, client_id="c1", owner="p1")
    with pytest.raises(TurnRefused) as refused:
        begin(user, conversation, client_id="c2", owner="p2")
    assert refused.value.code == "busy"
    assert not Message.objects.filter(client_id="c2").exists()  # Nothing saved when busy.
    running_turns.turn_release(conversation_id=conversation.pk, owner="p1")
    begin(user, conversation, client_id="c3", owner="p2")
    Conversation.objects.filter(pk=conversation.pk).update(
        turn_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert begin(user, conversation, client_id="c4", owner="p3").reply


def test_a_resent_message_is_never_busy_and_starts_nothing(user):
    conversation = make_conversation(user)
    first = begin(user, conversation, client_id="same")
    again = begin(user, conversation, client_id="same", owner="p2")
    assert isinstance(again, turn_starts.AlreadySent)
    assert again.message.pk == first.user_message.pk


def test_renewal_renews_only_this_process_leases(user):
    conversation = make_conversation(user)
    begin(user, conversation)
    other = make_conversation(user)
    begin(user, other, owner="p2")
    past = timezone.now() - timedelta(seconds=1)
    Conversation.objects.update(turn_expires_at=past)
    kept = running_turns.turns_renew(owner="p1", conversation_ids=[conversation.pk, other.pk])
    assert kept == {conversation.pk}
    conversation.refresh_from_db()
    assert conversation.turn_expires_at > timezone.now()
    other.refresh_from_db()
    assert other.turn_expires_at == past


def test_flush_saves_each_reply_text(user):
    begun = begin(user, make_conversation(user))
    failed = running_turns.turns_flush(
        progress=[running_turns.Progress(begun.reply.pk, "so far", "", {"model": "m"})]
    )
    assert failed == set()
    begun.reply.refresh_from_db()
    assert begun.reply.content == "so far" and begun.reply.request == {"model": "m"}


def test_a_reply_that_cannot_be_saved_fails_alone(user):
    good = begin(user, make_conversation(user)).reply
    bad = begin(user, make_conversation(user)).reply
    later = begin(user, make_conversation(user)).reply
    failed = running_turns.turns_flush(
        progress=[
            running_turns.Progress(good.pk, "good text", ""),
            # A request record that cannot be stored (not JSON): this reply's save fails.
            running_turns.Progress(bad.pk, "bad text", "", {"tool": object()}),
            running_turns.Progress(later.pk, "later text", ""),
        ]
    )
    assert failed == {bad.pk}
    contents = dict(
        Message.objects.filter(pk__in=[good.pk, bad.pk, later.pk]).values_list("pk", "content")
    )
    assert contents == {good.pk: "good text", bad.pk: "", later.pk: "later text"}


def test_the_sweep_interrupts_only_turns_whose_lease_expired(user):
    alive = make_conversation(user)
    alive_reply = begin(user, alive, owner="alive").reply
    dead = make_conversation(user)
    dead_reply = begin(user, dead, owner="dead").reply
    Message.objects.filter(pk=dead_reply.pk).update(content="half")
    Conversation.objects.filter(pk=dead.pk).update(
        turn_expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = running_turns.turns_expired()
    assert expired == [(dead.pk, "dead")]
    swept = running_turns.turns_sweep(conversation_ids=[dead.pk, alive.pk])
    assert [m.pk for m in swept] == [dead_reply.pk]
    assert swept[0].status == "interrupted" and swept[0].content == "half"
    alive_reply.refresh_from_db()
    assert alive_reply.status == "streaming"
    dead.refresh_from_db()
    assert dead.turn_owner == "" and dead.turn_expires_at is None


def test_the_sweep_spares_a_lease_renewed_since_it_was_found_expired(user):
    conversation = make_conversation(user)
    reply = begin(user, conversation, owner="slow").reply
    Conversation.objects.filter(pk=conversation.pk).update(
        turn_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert running_turns.turns_expired() == [(conversation.pk, "slow")]
    running_turns.turns_renew(owner="slow", conversation_ids=[conversation.pk])
    assert running_turns.turns_sweep(conversation_ids=[conversation.pk]) == []
    reply.refresh_from_db()
    assert reply.status == "streaming"


def test_the_sweep_interrupts_old_replies_left_streaming_without_a_lease(user):
    conversation = make_conversation(user)
    stuck = factories.message_append(
        conversation=conversation,
        role="assistant",
        content="half",
        parent=conversation.current_leaf,
        status=Message.Status.STREAMING,
    )
    # Recent: it may be a turn just starting.
    assert running_turns.turns_sweep(conversation_ids=[]) == []
    Message.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert [m.pk for m in running_turns.turns_sweep(conversation_ids=[])] == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status == "interrupted" and stuck.content == "half"
