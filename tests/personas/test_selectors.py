"""Reads of personas: the shared ones and one's own, never another user's."""

import pytest

from conversations.accounts.models import UserSettings
from conversations.personas import selectors
from conversations.personas.models import Persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas(user, other_user):
    return {
        "shared": Persona.objects.create(name="Shared", owner=None),
        "mine": Persona.objects.create(name="Mine", owner=user),
        "theirs": Persona.objects.create(name="Theirs", owner=other_user),
    }


def test_a_user_may_use_shared_personas_and_their_own(user, personas):
    usable = set(selectors.persona_list(user=user))
    assert {personas["shared"], personas["mine"]} <= usable
    assert personas["theirs"] not in usable
    assert selectors.persona_get(user=user, persona_id=personas["shared"].pk) == personas["shared"]
    assert selectors.persona_get(user=user, persona_id=personas["theirs"].pk) is None


def test_only_ones_own_personas_are_owned(user, personas):
    assert selectors.persona_get_owned(user=user, persona_id=personas["mine"].pk)
    assert selectors.persona_get_owned(user=user, persona_id=personas["shared"].pk) is None
    assert selectors.persona_get_owned(user=user, persona_id=personas["theirs"].pk) is None


def test_the_default_persona_only_while_the_user_may_use_it(user, personas):
    assert selectors.default_persona(user=user, chosen=UserSettings(user=user)) is None
    chosen = UserSettings(user=user, default_persona=personas["mine"])
    assert selectors.default_persona(user=user, chosen=chosen) == personas["mine"]
    # A persona that is someone else's now (however it was chosen) is not used.
    chosen = UserSettings(user=user, default_persona=personas["theirs"])
    assert selectors.default_persona(user=user, chosen=chosen) is None
