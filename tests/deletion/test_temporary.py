"""The temporary chats' job: each goes once closed or CHAT_TEMPORARY_HOURS old, whichever
comes first, never while its turn holds the lease, in bounded batches; saved chats stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.deletion import runner, temporary
from conversations.models import Conversation
from conversations.review.models import AuditEntry
from tests.deletion.support import aged, remaining

pytestmark = pytest.mark.django_db


def temporary_chat(owner, *, hours_old: float = 0, closed: bool = False) -> Conversation:
    conversation = aged(owner, 0)
    fields = {
        "temporary": True,
        "created_at": timezone.now() - timedelta(hours=hours_old),
        "closed_at": timezone.now() if closed else None,
    }
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    conversation.refresh_from_db()
    return conversation


def purge() -> runner.RunReport:
    return runner.run(owner="test-runner")


def test_closed_or_past_their_hours_they_go_and_the_rest_stay(settings, user, other_user):
    settings.CHAT_TEMPORARY_HOURS = 24
    closed = temporary_chat(user, closed=True)
    old = temporary_chat(other_user, hours_old=25)
    fresh = temporary_chat(user, hours_old=23)
    saved_old = aged(user, 3)  # A saved chat is no business of this job's.
    Conversation.objects.filter(pk=saved_old.pk).update(
        created_at=timezone.now() - timedelta(days=3), closed_at=timezone.now()
    )

    assert runner.preview()["temporary"] == {"conversations": 2, "messages": 4, "running": 0}
    report = purge()

    assert report.finished
    assert report.counts["temporary"] == {"conversations": 2, "messages": 4}
    assert remaining(closed, old, fresh, saved_old) == {fresh.pk, saved_old.pk}
    # The owner's own choice: no audit entry, as for their own delete.
    assert not AuditEntry.objects.exists()


def test_the_hours_are_a_setting(settings, user):
    settings.CHAT_TEMPORARY_HOURS = 2
    three_hours = temporary_chat(user, hours_old=3)
    one_hour = temporary_chat(user, hours_old=1)
    purge()
    assert remaining(three_hours, one_hour) == {one_hour.pk}


def test_one_whose_turn_holds_the_lease_waits_for_the_reply_to_end(user):
    running = temporary_chat(user, hours_old=30, closed=True)
    Conversation.objects.filter(pk=running.pk).update(
        turn_owner="server:1", turn_expires_at=timezone.now() + timedelta(minutes=1)
    )
    assert runner.preview()["temporary"]["running"] == 1
    purge()
    assert remaining(running) == {running.pk}

    Conversation.objects.filter(pk=running.pk).update(turn_owner="", turn_expires_at=None)
    purge()
    assert remaining(running) == set()


def test_batches_are_bounded(user):
    chats = [temporary_chat(user, closed=True) for _ in range(5)]
    first = temporary.batch(after=0, limit=2)
    assert first.counts == {"conversations": 2, "messages": 4}
    assert first.cursor == chats[1].pk
    assert remaining(*chats) == {c.pk for c in chats[2:]}
    report = runner.run(owner="test-runner", batch=2)
    assert report.batches == 2 and remaining(*chats) == set()


def test_closing_and_reopening_touch_only_the_owners_temporary_chats(user, other_user):
    mine = temporary_chat(user)
    theirs = temporary_chat(other_user)
    saved = aged(user, 0)
    ids = [mine.pk, theirs.pk, saved.pk]

    assert services.temporary_close(owner_id=user.pk, conversation_ids=ids) == 1
    assert services.temporary_reopen(owner_id=other_user.pk, conversation_id=mine.pk) == 0
    closed = dict(Conversation.objects.filter(pk__in=ids).values_list("pk", "closed_at"))
    assert closed[mine.pk] is not None
    assert closed[theirs.pk] is None and closed[saved.pk] is None

    assert services.temporary_reopen(owner_id=user.pk, conversation_id=mine.pk) == 1
    purge()
    assert remaining(mine, theirs, saved) == {mine.pk, theirs.pk, saved.pk}
