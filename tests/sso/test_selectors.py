"""Reads about single sign-on: the switches, the group map's text, the groups claim's
values, and whether an account is linked to the provider."""

import pytest
from allauth.socialaccount.models import SocialAccount

from conversations.sso import selectors
from conversations.sso.config import PROVIDER_ID


def test_the_switches_follow_the_settings(settings):
    settings.SSO_ENABLED, settings.CHAT_LOCAL_PASSWORDS = True, False
    assert selectors.sso_enabled() is True and selectors.local_passwords() is False
    settings.SSO_ENABLED, settings.CHAT_LOCAL_PASSWORDS = False, True
    assert selectors.sso_enabled() is False and selectors.local_passwords() is True


def test_the_group_map_is_value_equals_group_pairs():
    text = " chat-reviewers = Reviewers,chat-staff=Chat staff , chat-reviewers=Writers"
    assert selectors.group_map(text) == {
        "chat-reviewers": ["Reviewers", "Writers"],
        "chat-staff": ["Chat staff"],  # A space inside a name stays.
    }
    assert selectors.group_map("team=A=B") == {"team": ["A=B"]}  # Split at the first "=".


def test_pairs_without_a_value_or_a_group_are_left_out():
    assert selectors.group_map("") == {}
    assert selectors.group_map("lonely,=Nobody,empty=, = ,,ok=Group") == {"ok": ["Group"]}


def test_the_group_map_is_read_from_the_settings_by_default(settings):
    settings.OIDC_GROUP_MAP = "chat-writers=Writers"
    assert selectors.group_map() == {"chat-writers": ["Writers"]}
    settings.OIDC_GROUP_MAP = ""
    assert selectors.group_map() == {}


def test_the_groups_claim_may_be_a_list_or_one_string(settings):
    assert selectors.claim_values({"groups": ["a", "b", "a"]}) == {"a", "b"}
    assert selectors.claim_values({"groups": "a"}) == {"a"}
    # What is not a string in it, or not a list or a string at all, counts for nothing.
    assert selectors.claim_values({"groups": ["a", 1, None, ["b"], {"c": 1}]}) == {"a"}
    for claims in ({}, {"groups": None}, {"groups": 5}, {"groups": {"a": "b"}}):
        assert selectors.claim_values(claims) == set(), claims
    # The claim's name is a setting.
    settings.OIDC_GROUPS_CLAIM = "roles"
    assert selectors.claim_values({"groups": ["a"], "roles": ["r"]}) == {"r"}


def test_only_the_first_thousand_values_of_the_claim_are_read():
    values = [f"g{i}" for i in range(1500)]
    found = selectors.claim_values({"groups": values})
    assert len(found) == 1000 and "g999" in found and "g1000" not in found


@pytest.mark.django_db
def test_an_account_is_linked_by_a_provider_account_of_its_own(user, other_user):
    assert not selectors.is_linked(user=user)
    SocialAccount.objects.create(user=user, provider="github", uid="1")
    assert not selectors.is_linked(user=user)  # Another provider's link is not this one.
    SocialAccount.objects.create(user=other_user, provider=PROVIDER_ID, uid="https://idp#x")
    assert not selectors.is_linked(user=user)
    assert selectors.is_linked(user=other_user)
