"""What a turn may use (conversations/turns/checks.py): a shared persona kept to groups
is refused to others, with no query of its own; a user's own persona is always theirs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.access import kinds
from conversations.access.policy import Snapshot
from conversations.errors import TurnRefused
from conversations.personas.models import Persona
from conversations.turns import checks

pytestmark = pytest.mark.django_db

TEAM = 41


def kept_to_team(persona: Persona, members: dict[int, frozenset[int]]) -> Snapshot:
    return Snapshot(
        rules={(kinds.PERSONA, str(persona.pk)): frozenset({TEAM})},
        members=members,
        by_kind={kinds.PERSONA: (str(persona.pk),)},
    )


def test_a_kept_shared_persona_is_refused_to_others_and_allowed_to_members(user, other_user):
    shared = Persona.objects.create(name="Lab notes")
    access = kept_to_team(shared, {user.pk: frozenset({TEAM})})
    with CaptureQueriesContext(connection) as queries:
        checks.check_persona(shared, user_id=user.pk, access=access)
        with pytest.raises(TurnRefused) as refused:
            checks.check_persona(shared, user_id=other_user.pk, access=access)
    assert len(queries) == 0
    assert refused.value.code == "bad_request" and refused.value.extra == {"field": "persona"}
    assert "Lab notes" in refused.value.message


def test_a_users_own_persona_is_never_kept_from_them(user):
    own = Persona.objects.create(name="Mine", owner=user)
    checks.check_persona(own, user_id=user.pk, access=kept_to_team(own, {}))
