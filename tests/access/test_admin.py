"""Staff set who may use what in the admin: one form for every kind of thing (models,
shared personas, tools), listing what there is to keep to groups."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from conversations.access import kinds, policy
from conversations.access.models import AccessRule
from conversations.personas.models import Persona

pytestmark = pytest.mark.django_db(transaction=True)

ADD = "/admin/conversations/accessrule/add/"


@pytest.fixture
def staff(django_user_model) -> Client:
    boss = django_user_model.objects.create_superuser(username="boss", password="pw-boss-123")
    client = Client()
    client.force_login(boss)
    return client


def test_the_form_offers_models_shared_personas_and_tools(staff, user, fake_upstream):
    shared = Persona.objects.create(name="Lab notes")
    own = Persona.objects.create(name="Alice's own", owner=user)
    page = staff.get(ADD).content.decode()
    assert 'value="model:test-model"' in page
    assert 'value="model:meta-llama/Llama-3.3-70B-Instruct"' in page
    assert f'value="persona:{shared.pk}"' in page and "Lab notes" in page
    assert 'value="tool:calculator"' in page
    assert '<optgroup label="Tool">' in page
    assert f'value="persona:{own.pk}"' not in page  # A user's own persona stays theirs.


def test_a_rule_made_in_the_admin_counts_at_once_and_says_who(staff, user, other_user):
    team = Group.objects.create(name="Team")
    other_user.groups.add(team)
    response = staff.post(ADD, {"thing": "tool:calculator", "groups": [team.pk]})
    assert response.status_code == 302
    rule = AccessRule.objects.get()
    assert (rule.kind, rule.name) == (kinds.TOOL, "calculator")
    snapshot = policy.cached()  # Reloaded when the save committed, without a query.
    assert snapshot is not None
    assert not snapshot.user(user.pk).may(kinds.TOOL, "calculator")
    assert snapshot.user(other_user.pk).may(kinds.TOOL, "calculator")
    listing = staff.get("/admin/conversations/accessrule/").content.decode()
    assert "calculator" in listing and "Team" in listing
    # One rule per thing; and a rule needs a group (delete it to open the thing to all).
    again = staff.post(ADD, {"thing": "tool:calculator", "groups": [team.pk]})
    assert "already has a rule" in again.content.decode()
    empty = staff.post(ADD, {"thing": "tool:current_datetime", "groups": []})
    assert empty.status_code == 200 and AccessRule.objects.count() == 1
    staff.post(f"/admin/conversations/accessrule/{rule.pk}/delete/", {"post": "yes"})
    assert policy.cached().user(user.pk).may(kinds.TOOL, "calculator")


@pytest.mark.django_db  # Not flushed: the Reviewers group a migration made is there.
def test_a_reviewer_cannot_see_or_change_the_rules(django_user_model):
    reviewer = django_user_model.objects.create_user(
        username="rita", password="pw-rita-123", is_staff=True
    )
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    client = Client()
    client.force_login(reviewer)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"thing": "tool:calculator"}).status_code == 403
    assert not AccessRule.objects.exists()
