"""Reads of prompts: one's own and the shared ones one's groups allow; never another
user's own."""

import pytest
from django.contrib.auth.models import Group

from conversations.access import kinds
from conversations.access import policy as access_policy
from conversations.access import services as access_services
from conversations.prompts import selectors
from conversations.prompts.models import Prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompts(user, other_user):
    return {
        "everyone": Prompt.objects.create(command="hello", title="Hello", text="Hi", owner=None),
        "team": Prompt.objects.create(command="team", title="Team", text="T", owner=None),
        "mine": Prompt.objects.create(command="mine", title="Mine", text="M", owner=user),
        "theirs": Prompt.objects.create(command="theirs", title="T", text="T", owner=other_user),
    }


def test_a_user_lists_their_own_then_shared_never_anothers(user, other_user, prompts):
    assert selectors.prompt_list(user=user) == [
        prompts["mine"],
        prompts["everyone"],
        prompts["team"],
    ]
    assert prompts["mine"] not in selectors.prompt_list(user=other_user)
    assert selectors.prompt_get_owned(user=user, prompt_id=prompts["mine"].pk) == prompts["mine"]
    for other in ("theirs", "everyone"):
        assert selectors.prompt_get_owned(user=user, prompt_id=prompts[other].pk) is None


def test_a_prompt_published_to_a_group_is_for_its_members_only(user, other_user, prompts):
    team = Group.objects.create(name="Team")
    user.groups.add(team)
    access_services.rule_set(kind=kinds.PROMPT, name=str(prompts["team"].pk), group_ids=[team.pk])
    access_policy.load()
    assert prompts["team"] in selectors.prompt_list(user=user)
    assert prompts["team"] not in selectors.prompt_list(user=other_user)
    assert prompts["everyone"] in selectors.prompt_list(user=other_user)


def test_staff_see_shared_prompts_by_name(prompts):
    names = dict(selectors.shared_names())
    assert set(names) == {str(prompts["everyone"].pk), str(prompts["team"].pk)}
    assert selectors.shared_name(str(prompts["team"].pk)).startswith("/team")
    assert "deleted" in selectors.shared_name("999999")
    assert "deleted" in selectors.shared_name(str(prompts["mine"].pk))  # Not a shared one.
