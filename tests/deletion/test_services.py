"""The one deletion service: a user's delete, staff's, an account's, each taking what
registered packages keep beside a conversation, after the transaction commits."""

import logging

import pytest
from django.db import transaction

from conversations import hooks
from conversations.deletion import services as deletion
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.review import services as review
from conversations.review.models import AuditEntry, Feedback, QueueItem
from tests.deletion.support import aged, remaining
from tests.review.builders import rate

pytestmark = pytest.mark.django_db


def test_a_users_delete_takes_everything_and_runs_registered_work_after_commit(
    user, cleanups, django_capture_on_commit_callbacks
):
    cleanups.conversations("files")
    conversation = aged(user, 0, messages=4)
    rate(conversation.current_leaf, "down")
    with django_capture_on_commit_callbacks(execute=True):
        deleted = deletion.conversation_delete(conversation=conversation)
        assert cleanups.committed == []  # Nothing irreversible before the commit.
    assert deleted == deletion.Deleted(conversations=1, messages=4)
    assert cleanups.collected == [("files", [conversation.pk])]
    assert cleanups.committed == [("files", [conversation.pk])]
    for model in (Conversation, Message, Feedback, QueueItem):
        assert not model.objects.exists(), model
    assert not AuditEntry.objects.exists()  # An owner's own delete leaves no record.


def test_a_deletion_rolled_back_runs_none_of_the_work_registered_for_after_it(
    user, cleanups, django_capture_on_commit_callbacks
):
    cleanups.conversations("files")
    conversation = aged(user, 0)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            deletion.conversation_delete(conversation=conversation)
            raise RuntimeError("the caller's transaction fails afterwards")
    assert cleanups.collected == [("files", [conversation.pk])]
    assert cleanups.committed == []
    assert remaining(conversation) == {conversation.pk}


def test_one_failing_after_commit_step_leaves_the_others_to_run(
    user, cleanups, django_capture_on_commit_callbacks, caplog
):
    cleanups.conversations("files", fail=True)
    cleanups.conversations("links")
    conversation = aged(user, 0)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        deletion.conversation_delete(conversation=conversation)
    assert cleanups.committed == [("links", [conversation.pk])]
    assert "After deleting, 'files' failed" in caplog.text
    assert remaining(conversation) == set()


def test_staff_delete_goes_through_the_service_and_leaves_a_tombstone_in_its_transaction(
    boss, user
):
    conversation = aged(user, 0, title="Secret plans")
    seen = []

    def receiver(*, conversations, reason, actor, **_):
        # In the deleting transaction, before the rows go.
        seen.append((conversations, reason, actor, Conversation.objects.count()))

    hooks.conversations_deleting.connect(receiver)
    try:
        review.conversation_delete_by_staff(actor=boss, conversation=conversation)
    finally:
        hooks.conversations_deleting.disconnect(receiver)
    assert seen == [([(conversation.pk, user.pk)], "staff", boss, 1)]
    tombstone = AuditEntry.objects.get()
    assert (tombstone.action, tombstone.conversation_id, tombstone.owner_id) == (
        AuditEntry.Action.DELETE,
        conversation.pk,
        user.pk,
    )
    assert "Secret" not in str(AuditEntry.objects.values().get())


def test_an_account_goes_a_batch_of_conversations_per_transaction_then_its_own_data(
    user, other_user, cleanups, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(deletion, "ACCOUNT_BATCH", 2)
    cleanups.conversations("files")
    cleanups.account("avatars")
    mine = [aged(user, 0) for _ in range(5)]
    theirs = aged(other_user, 0)
    Persona.objects.create(owner=user, name="Mine", system_prompt="x")
    with django_capture_on_commit_callbacks(execute=True):
        deleted = deletion.account_delete(user=user)
    assert deleted == deletion.Deleted(conversations=5, messages=10)
    ids = sorted(c.pk for c in mine)
    assert [entry for entry in cleanups.collected if entry[0] == "files"] == [
        ("files", ids[0:2]),
        ("files", ids[2:4]),
        ("files", ids[4:5]),
    ]
    # The account's own step runs once its conversations are gone, before its row goes.
    assert ("avatars", (user.pk, 0)) in cleanups.collected
    assert ("avatars", user.pk) in cleanups.committed
    assert not type(user).objects.filter(pk=user.pk).exists()
    assert not Persona.objects.filter(owner_id=user.pk).exists()
    assert remaining(theirs) == {theirs.pk}


def test_delete_several_conversations_counts_only_those_that_were_there(user):
    first, second = aged(user, 0), aged(user, 0, messages=3)
    deleted = deletion.conversations_delete(
        conversation_ids=[first.pk, second.pk, 10_000_000], reason=deletion.Reason.USER
    )
    assert deleted == deletion.Deleted(conversations=2, messages=5)
    assert (
        deletion.conversations_delete(conversation_ids=[first.pk], reason=deletion.Reason.USER)
        == deletion.Deleted()
    )
