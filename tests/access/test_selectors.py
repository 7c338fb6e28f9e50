"""Reads of the access rules (conversations/access/selectors.py): every rule with its
groups, members of those groups within a bound, one user's groups."""

import pytest
from django.contrib.auth.models import Group

from conversations.access import kinds, selectors
from conversations.access.models import AccessRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(user):
    group = Group.objects.create(name="team")
    user.groups.add(group)
    return group


def test_rules_come_with_their_groups_and_a_rule_without_groups_with_none(team):
    kept = AccessRule.objects.create(kind=kinds.MODEL, name="big-model")
    kept.groups.add(team)
    AccessRule.objects.create(kind=kinds.TOOL, name="calculator")
    assert selectors.rule_groups_all(limit=10) == {
        (kinds.MODEL, "big-model"): frozenset({team.pk}),
        (kinds.TOOL, "calculator"): frozenset(),
    }
    assert len(selectors.rule_groups_all(limit=1)) == 1


def test_memberships_past_their_bound_are_not_read(user, other_user, team):
    other_user.groups.add(team)
    assert selectors.memberships(group_ids={team.pk}, limit=2) == {
        user.pk: frozenset({team.pk}),
        other_user.pk: frozenset({team.pk}),
    }
    assert selectors.memberships(group_ids={team.pk}, limit=1) is None


def test_one_users_groups_and_the_groups_of_one_thing(user, other_user, team):
    rule = AccessRule.objects.create(kind=kinds.MODEL, name="m")
    rule.groups.add(team)
    assert selectors.user_group_ids(user_id=user.pk) == frozenset({team.pk})
    assert selectors.user_group_ids(user_id=other_user.pk) == frozenset()
    assert selectors.rule_group_ids(kind=kinds.MODEL, name="m") == [team.pk]
    assert selectors.rule_group_ids(kind=kinds.MODEL, name="other") == []
    assert selectors.rule_get(kind=kinds.MODEL, name="m") == rule
    assert selectors.groups_named(group_ids={team.pk})
    assert not selectors.groups_named(group_ids={team.pk + 1000})
