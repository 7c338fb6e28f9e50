"""The forms of the pages: a persona's tools and tool choice among what exists, its numbers
within bounds, and no model the server would refuse, for a persona or for new chats."""

import pytest

from conversations.accounts.models import UserSettings
from conversations.catalog.models import ModelInfo
from conversations.personas.models import Persona
from conversations.tools import registry
from conversations.web.forms import PersonaForm, PreferencesForm, SignupForm

pytestmark = pytest.mark.django_db


def persona(**changes) -> dict:
    return {"name": "P", "tool_choice": "auto", **changes}


def test_a_personas_tools_are_the_registered_ones(user):
    form = PersonaForm(user=user)
    assert [name for name, _ in form.fields["tools"].choices] == sorted(registry.REGISTRY)
    choices = [value for value, _ in form.fields["tool_choice"].choices]
    assert choices[:3] == ["auto", "none", "required"]
    assert "calculator" in choices
    assert not PersonaForm(persona(tools=["no_such_tool"]), user=user).is_valid()
    assert not PersonaForm(persona(tool_choice="no_such_tool"), user=user).is_valid()
    assert PersonaForm(
        persona(tools=["calculator"], tool_choice="calculator"), user=user
    ).is_valid()


def test_a_personas_tools_include_the_external_ones_the_user_may_use(
    user, other_user, external_tools
):
    external_tools.allowed["files__fail"] = {other_user.pk}
    form = PersonaForm(user=user)
    labels = dict(form.fields["tools"].choices)
    assert labels["files__delete"] == "files__delete (server files, asks before each call)"
    assert labels["files__echo"] == "files__echo (server files)"
    assert "files__fail" not in labels  # Another user's only.
    assert labels["calculator"] == "calculator"
    assert PersonaForm(
        persona(tools=["files__echo"], tool_choice="files__delete"), user=user
    ).is_valid()
    assert not PersonaForm(persona(tools=["files__fail"]), user=user).is_valid()
    assert PersonaForm(persona(tools=["files__fail"]), user=other_user).is_valid()


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("temperature", "2", True),
        ("temperature", "2.1", False),
        ("temperature", "-0.1", False),
        ("top_p", "1", True),
        ("top_p", "1.5", False),
        ("max_tokens", "0", False),
        ("max_tokens", "1000000", True),
        ("max_tokens", "1000001", False),
    ],
)
def test_a_personas_numbers_stay_within_bounds(user, field, value, valid):
    assert PersonaForm(persona(**{field: value}), user=user).is_valid() is valid


def test_a_model_turned_off_by_staff_is_no_choice(user, settings):
    ModelInfo.objects.create(model_id=settings.LLM_DEFAULT_MODEL, enabled=False)
    form = PersonaForm(persona(model=settings.LLM_DEFAULT_MODEL), user=user)
    assert not form.is_valid()
    assert form.errors["model"] == [
        f"The model {settings.LLM_DEFAULT_MODEL} is turned off here. Pick another model."
    ]
    preferences = PreferencesForm(
        {"theme": "system", "default_model": settings.LLM_DEFAULT_MODEL},
        instance=UserSettings(user=user),
        user=user,
    )
    assert not preferences.is_valid() and "default_model" in preferences.errors
    assert PersonaForm(persona(model=""), user=user).is_valid()  # Blank: the picker decides.


def test_preferences_offer_only_personas_the_user_may_use(user, other_user):
    theirs = Persona.objects.create(name="Theirs", owner=other_user)
    mine = Persona.objects.create(name="Mine", owner=user)
    offered = set(
        PreferencesForm(instance=UserSettings(user=user), user=user)
        .fields["default_persona"]
        .queryset
    )
    assert mine in offered and theirs not in offered


def test_sign_up_asks_for_a_token_only_when_the_rules_need_one():
    assert "token" not in SignupForm().fields
    assert SignupForm(needs="setup_token").fields["token"].label == "Setup token"
    assert SignupForm(needs="invite").fields["token"].label == "Invite code"
    help_text = SignupForm().fields["password1"].help_text
    assert "at least" in help_text  # The password rules, before a sign-up fails on them.
