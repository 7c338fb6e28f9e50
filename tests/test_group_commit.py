"""Group commit: work that arrives together shares one transaction, and one failure costs
the others nothing."""

import asyncio

import pytest
from django.contrib.auth.models import Group

from conversations.chat.group_commit import GroupCommit

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
