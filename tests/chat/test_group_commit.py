"""Group commit: work that arrives together shares one transaction, and one failure costs
the others nothing."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group

from conversations import services
from conversations.chat.group_commit import GroupCommit
from conversations.errors import TurnRefused
from conversations.models import Conversation, Message
from conversations.turns import starts as turn_starts
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def make_group(*, name: str, runs: list[str], fail: bool = False) -> str:
    runs.append(name)
    Group.objects.create(name=name)
    if fail:
        raise ValueError(f"{name} failed")
    return name


async def batch(works: list[dict], *, repeatable: bool) -> list:
    commit = GroupCommit()
    return await asyncio.gather(
        *(commit.run(make_group, repeatable=repeatable, **work) for work in works),
        return_exceptions=True,
    )


def saved() -> set[str]:
    return set(Group.objects.filter(name__in=["a", "b", "c"]).values_list("name", flat=True))


async def test_repeatable_work_runs_once_when_nothing_fails():
    runs: list[str] = []
    results = await batch([{"name": n, "runs": runs} for n in "abc"], repeatable=True)
    assert results == ["a", "b", "c"]
    assert runs == ["a", "b", "c"]  # One transaction, no second run.
    assert await asyncio.to_thread(saved) == {"a", "b", "c"}


@pytest.mark.parametrize("repeatable", [True, False])
async def test_one_failing_work_leaves_the_others_saved(repeatable):
    runs: list[str] = []
    works = [{"name": "a", "runs": runs}, {"name": "b", "runs": runs, "fail": True}]
    works.append({"name": "c", "runs": runs})
    results = await batch(works, repeatable=repeatable)
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], ValueError)
    assert await asyncio.to_thread(saved) == {"a", "c"}  # b's row went with its failure.
    # Repeatable work ran all together first, then again each in its own savepoint.
    assert runs == (["a", "b", "a", "b", "c"] if repeatable else ["a", "b", "c"])


async def _starts(works: list[dict]) -> list:
    """Turn starts (the real ones) through one group commit, gathered into one batch."""
    commit = GroupCommit()
    return await asyncio.gather(
        *(
            commit.run(turn_starts.turn_begin_send, repeatable=True, order=w["user"].pk, **w)
            for w in works
        ),
        return_exceptions=True,
    )


@database_sync_to_async
def _setup(user_model):
    users = [user_model.objects.create_user(f"u{i}", password="x") for i in range(3)]
    conversation = services.conversation_create(owner=users[0], persona=None, model="m", title="T")
    factories.message_append(conversation=conversation, role="user", content="q", parent=None)
    return users, conversation


@database_sync_to_async
def _saved(new) -> dict:
    return {
        "reply": Message.objects.filter(pk=new.reply.pk).values("parent_id", "status").first(),
        "leaf": Conversation.objects.get(pk=new.conversation.pk).current_leaf_id,
    }


@database_sync_to_async
def _client_ids() -> list[str]:
    return list(Message.objects.filter(client_id__gt="").values_list("client_id", flat=True))


@pytest.mark.parametrize("size", [1, 3])
async def test_starts_batched_together_each_get_their_own_answer(size, django_user_model):
    """Resent, busy and new starts in one batch (on PostgreSQL, one pipeline): each gets
    what it would get alone, and only the new ones are saved."""
    users, existing = await _setup(django_user_model)
    resend = {"user": users[0], "owner": "p2", "client_id": "same", "conversation_id": existing.pk}
    [first] = await _starts([resend | {"owner": "p1", "content": "hi"}])
    assert isinstance(first, turn_starts.Begun)
    works = [
        # Sent again while its turn still runs: answered with what was saved, never busy.
        resend,
        # A new message in the same conversation while its turn runs: busy.
        {"user": users[0], "owner": "p2", "client_id": "other", "conversation_id": existing.pk},
        # A new conversation of another user.
        {"user": users[1], "owner": "p2", "client_id": "new", "conversation_id": None},
    ][:size]
    results = await _starts([w | {"content": "hi"} for w in works])
    assert isinstance(results[0], turn_starts.AlreadySent)
    assert results[0].message.pk == first.user_message.pk
    if size > 1:
        assert isinstance(results[1], TurnRefused) and results[1].code == "busy"
        new = results[2]
        assert isinstance(new, turn_starts.Begun) and new.created
        saved = await _saved(new)
        assert saved["reply"] == {"parent_id": new.user_message.pk, "status": "streaming"}
        assert saved["leaf"] == new.reply.pk
    assert sorted(await _client_ids()) == (["new", "same"] if size > 1 else ["same"])


@pytest.mark.parametrize("workers", [1, 2])
async def test_work_queued_as_a_batch_ends_is_taken(workers):
    """A caller woken by its result queues more work at once, before the worker that
    served it has finished as a task: that work must still run. (A worker that left the
    set of workers only in its done-callback, one loop iteration later, counted as running
    in that window, and the new work waited for ever: the save loop hung so.)"""
    commit = GroupCommit(workers=workers)
    runs: list[str] = []
    try:
        assert await commit.run(make_group, name="a", runs=runs) == "a"
        # No await between the first result and the next run: the race, every time.
        async with asyncio.timeout(10):
            assert await commit.run(make_group, name="b", runs=runs) == "b"
            assert await commit.run(make_group, name="c", runs=runs) == "c"
    finally:
        commit.shutdown()
    assert runs == ["a", "b", "c"]


async def test_a_worker_cancelled_mid_batch_leaves_no_caller_waiting():
    """The loop closing under a worker (its task cancelled) cancels what it held and what
    was queued behind it: no caller waits for work that will not run."""
    commit = GroupCommit()
    started, release = asyncio.Event(), asyncio.Event()
    finished = threading.Event()
    loop = asyncio.get_running_loop()

    def slow(**_):
        try:
            loop.call_soon_threadsafe(started.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(5)
        finally:
            finished.set()

    first = asyncio.ensure_future(commit.run(slow))
    await started.wait()
    second = asyncio.ensure_future(commit.run(make_group, name="late", runs=[]))
    await asyncio.sleep(0)
    for worker in list(commit._workers):
        worker.cancel()
    release.set()
    async with asyncio.timeout(10):
        results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert not commit._workers
    # A thread cannot be cancelled: the batch it held ends on its own (and its transaction
    # with it) before the test's database is flushed.
    assert await asyncio.to_thread(finished.wait, 10)
