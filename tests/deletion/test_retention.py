"""Retention: which conversations its rules take (the site's, a group's, a user's own), what
stays (held by the review queue, a turn running), in bounded batches, audited by counts."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections

from conversations.accounts.services import user_settings_update
from conversations.deletion import registry, retention, runner, selectors, services
from conversations.deletion.models import RetentionRule, RunnerLease
from conversations.models import Conversation
from conversations.review import services as review
from conversations.review.models import AuditEntry, QueueItem
from tests.deletion.support import aged, remaining
from tests.review.builders import rate

pytestmark = pytest.mark.django_db


def purge(**kwargs) -> runner.RunReport:
    return runner.run(owner="test-runner", **kwargs)


def retention_entries() -> list[dict]:
    return [
        entry.detail
        for entry in AuditEntry.objects.filter(action=AuditEntry.Action.RETENTION).order_by("id")
    ]


def test_each_conversation_goes_by_the_shortest_rule_of_site_group_and_owner(
    settings, user, other_user, django_user_model
):
    settings.CHAT_RETENTION_DAYS = 30
    group = Group.objects.create(name="Legal")
    RetentionRule.objects.create(group=group, days=7)
    member = django_user_model.objects.create_user(username="lee", password="pw-lee-12345")
    member.groups.add(group)
    user_settings_update(user=user, retention_days=1)  # alice keeps a day's worth.
    gone = [aged(other_user, 31), aged(member, 8), aged(user, 2), aged(member, 40)]
    kept = [aged(other_user, 29), aged(member, 6), aged(user, 0.5)]

    report = purge()

    assert report.ran and report.finished
    assert remaining(*gone, *kept) == {c.pk for c in kept}
    assert report.counts["retention"] == {"conversations": 4, "messages": 8}
    for person, days, source in ((user, 1, "own"), (member, 7, "group"), (other_user, 30, "site")):
        rule = selectors.retention_for(user=person)
        assert (rule.days, rule.source) == (days, source)


def test_no_rule_no_deletion(settings, user):
    settings.CHAT_RETENTION_DAYS = 0
    old = aged(user, 5000)
    assert purge().counts["retention"] == {}
    assert remaining(old) == {old.pk}
    assert selectors.retention_for(user=user).days is None


def test_an_open_review_item_holds_its_conversation_until_it_is_resolved(settings, user, reviewer):
    settings.CHAT_RETENTION_DAYS = 30
    held = aged(user, 90)
    rate(held.current_leaf, "down")  # Queued for review.
    reported = aged(user, 90)
    review.queue_add(actor=reviewer, conversation=reported)
    free = aged(user, 90)

    assert runner.preview()["retention"] == {
        "conversations": 1,
        "messages": 2,
        "owners": 1,
        "held": 2,
        "running": 0,
    }
    purge()
    assert remaining(held, reported, free) == {held.pk, reported.pk}

    item = QueueItem.objects.get(conversation=held)
    review.queue_set_status(actor=reviewer, items=[item], status=QueueItem.Status.IN_REVIEW)
    purge()
    assert remaining(held, reported) == {held.pk, reported.pk}  # Still being reviewed.

    item.refresh_from_db()
    review.queue_set_status(actor=reviewer, items=[item], status=QueueItem.Status.RESOLVED)
    purge()
    assert remaining(held, reported) == {reported.pk}


def test_a_conversation_with_a_turn_running_stays(settings, user):
    settings.CHAT_RETENTION_DAYS = 30
    running = aged(user, 90)
    Conversation.objects.filter(pk=running.pk).update(turn_owner="some-process")
    assert runner.preview()["retention"]["running"] == 1
    purge()
    assert remaining(running) == {running.pk}


def test_a_dry_run_reports_what_would_go_and_deletes_nothing(settings, user, other_user):
    settings.CHAT_RETENTION_DAYS = 10
    old = [aged(user, 11, messages=3), aged(other_user, 12, messages=1), aged(user, 100)]
    young = aged(user, 1)
    assert runner.preview()["retention"] == {
        "conversations": 3,
        "messages": 6,
        "owners": 2,
        "held": 0,
        "running": 0,
    }
    assert remaining(*old, young) == {c.pk for c in (*old, young)}
    assert not AuditEntry.objects.exists()


def test_batches_are_bounded_and_each_leaves_an_audit_entry_of_counts_only(
    settings, user, other_user
):
    settings.CHAT_RETENTION_DAYS = 10
    settings.CHAT_PURGE_BATCH = 2
    for owner in (user, user, other_user, user, other_user):
        aged(owner, 20, title="Secret plans")
    report = purge()
    assert report.batches == 3
    assert retention_entries() == [
        {"reason": "retention", "conversations": 2, "messages": 4, "owners": 1},
        {"reason": "retention", "conversations": 2, "messages": 4, "owners": 2},
        {"reason": "retention", "conversations": 1, "messages": 2, "owners": 1},
    ]
    for entry in AuditEntry.objects.values():
        assert entry["conversation_id"] is None and entry["owner_id"] is None
        assert "Secret" not in str(entry) and "secret" not in str(entry)
    assert not Conversation.objects.exists()


def test_a_batch_stops_at_its_bound_of_messages_but_takes_one_conversation_at_least(
    settings, user, monkeypatch
):
    settings.CHAT_RETENTION_DAYS = 10
    monkeypatch.setattr(retention, "PURGE_BATCH_MESSAGES", 5)
    for messages in (3, 2, 8, 1):
        aged(user, 20, messages=messages)
    purge()
    assert [entry["messages"] for entry in retention_entries()] == [5, 8, 1]


def test_a_run_needs_the_lease_and_a_due_run_waits_for_its_interval(settings, user):
    settings.CHAT_RETENTION_DAYS = 10
    old = aged(user, 20)
    assert services.lease_claim(name=runner.LEASE_NAME, owner="other", seconds=60)
    assert not purge().ran  # Another process holds it.
    assert remaining(old) == {old.pk}
    services.lease_release(name=runner.LEASE_NAME, owner="other", finished=True)

    assert not purge(due_after=timedelta(hours=1)).ran  # A run has just finished.
    assert purge().ran  # `manage.py purge` runs whenever cron says.
    assert remaining(old) == set()


def test_an_expired_lease_is_taken_over(settings, user):
    settings.CHAT_RETENTION_DAYS = 10
    old = aged(user, 20)
    assert services.lease_claim(name=runner.LEASE_NAME, owner="dead", seconds=-1)
    assert purge().ran
    assert remaining(old) == set()


def test_a_run_that_lost_its_lease_stops_before_its_next_batch(settings, user):
    settings.CHAT_RETENTION_DAYS = 10
    old = aged(user, 20)

    def steal(*, after: int, limit: int) -> registry.BatchResult:
        RunnerLease.objects.filter(name=runner.LEASE_NAME).update(owner="thief")
        return registry.BatchResult(cursor=None)

    jobs = dict(registry.PURGE_JOBS)
    registry.PURGE_JOBS.clear()
    registry.purge_job(registry.PurgeJob(name="thief", batch=steal, preview=dict))
    registry.PURGE_JOBS.update(jobs)
    try:
        report = purge()
    finally:
        registry.PURGE_JOBS.clear()
        registry.PURGE_JOBS.update(jobs)
    assert report.ran and not report.finished
    assert remaining(old) == {old.pk}


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_without_the_lease_still_delete_each_conversation_once(
    settings, user, other_user
):
    """The lease keeps runs apart; should two ever overlap (one outlived its lease), each
    batch's locked second look still takes every conversation once."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite runs one writer at a time anyway)")
    settings.CHAT_RETENTION_DAYS = 10
    old = [aged(owner, 20) for owner in (user, other_user) * 15]
    start = threading.Barrier(2)
    totals: list[int] = []

    def run_alone() -> None:
        try:
            start.wait()
            cursor, deleted = 0, 0
            while cursor is not None:
                result = retention.batch(after=cursor, limit=3)
                deleted += result.counts.get("conversations", 0)
                cursor = result.cursor
            totals.append(deleted)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_alone) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(totals) == 2 and sum(totals) == len(old)
    assert remaining(*old) == set()
    assert sum(entry["conversations"] for entry in retention_entries()) == len(old)
