"""Personas staff edit in the admin are versioned as users' edits are: the version goes up
when what the persona sends changes, not when only its name does."""

import pytest

from conversations.personas.models import Persona

pytestmark = pytest.mark.django_db
URL = "/admin/conversations/persona/"


def form(**changes) -> dict:
    return {
        "name": "Tutor",
        "description": "",
        "system_prompt": "Explain step by step.",
        "model": "",
        "temperature": "",
        "top_p": "",
        "max_tokens": "",
        "tools": "[]",
        "tool_choice": "auto",
        "owner": "",
        **changes,
    }


def test_staff_edits_version_the_persona_as_users_edits_do(admin_client):
    assert admin_client.post(f"{URL}add/", form()).status_code == 302
    persona = Persona.objects.get(name="Tutor")
    assert (persona.owner, persona.version) == (None, 1)  # Shared.

    assert (
        admin_client.post(f"{URL}{persona.pk}/change/", form(name="Maths tutor")).status_code == 302
    )
    persona.refresh_from_db()
    assert (persona.name, persona.version) == ("Maths tutor", 1)

    changed = form(name="Maths tutor", system_prompt="Show every step.", temperature="0.2")
    assert admin_client.post(f"{URL}{persona.pk}/change/", changed).status_code == 302
    persona.refresh_from_db()
    assert (persona.system_prompt, persona.temperature, persona.version) == (
        "Show every step.",
        0.2,
        2,
    )


def test_staff_may_give_a_persona_to_a_user(admin_client, user):
    admin_client.post(f"{URL}add/", form(owner=str(user.pk)))
    assert Persona.objects.get(name="Tutor").owner == user
