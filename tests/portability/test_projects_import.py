"""Projects in exports and imports: the all-export lists the user's projects (only theirs)
and each conversation names its own; importing makes the projects one has none of the
name of, within the limit, and puts the conversations in them; older files have none."""

import json

import pytest

from conversations.models import Conversation
from conversations.personas.models import Persona
from conversations.portability import export, importing
from conversations.portability.importing import ImportFailed
from conversations.projects.models import Project

pytestmark = pytest.mark.django_db


def _setup(user):
    persona = Persona.objects.create(owner=user, name="Tutor")
    garden = Project.objects.create(
        owner=user,
        name="Garden",
        instructions="Metric units.",
        default_persona=persona,
        default_model="test-model",
        default_tools=["calculator"],
    )
    Project.objects.create(owner=user, name="Empty")
    Conversation.objects.create(owner=user, title="Beds", project=garden)
    Conversation.objects.create(owner=user, title="Loose")
    return garden


def test_the_all_export_keeps_projects_and_only_ones_own(user, other_user):
    _setup(user)
    theirs = Project.objects.create(owner=other_user, name="Secret plans", instructions="x")
    Conversation.objects.create(owner=other_user, title="Theirs", project=theirs)
    data = export.export_all(user)
    assert [p["name"] for p in data["projects"]] == ["Empty", "Garden"]
    garden = data["projects"][1]
    assert garden["instructions"] == "Metric units." and garden["default_tools"] == ["calculator"]
    by_title = {c["title"]: c for c in data["conversations"]}
    assert set(by_title) == {"Beds", "Loose"}
    assert by_title["Beds"]["project"]["name"] == "Garden"
    assert "project" not in by_title["Loose"]
    assert "Secret plans" not in json.dumps(data)


def test_import_into_another_account_makes_the_projects(user, other_user):
    _setup(user)
    data = json.dumps(export.export_all(user)).encode()
    saved = importing.import_file(user=other_user, data=data)
    made = {p.name: p for p in Project.objects.filter(owner=other_user)}
    assert set(made) == {"Empty", "Garden"}
    assert made["Garden"].instructions == "Metric units."
    assert made["Garden"].default_persona is None  # Alice's persona is not Mallory's.
    beds = next(c for c in saved if c.title == "Beds")
    assert beds.project == made["Garden"]
    assert next(c for c in saved if c.title == "Loose").project is None


def test_import_into_the_same_account_uses_the_existing_project(user):
    garden = _setup(user)
    data = json.dumps(export.export_all(user)).encode()
    saved = importing.import_file(user=user, data=data)
    assert Project.objects.filter(owner=user).count() == 2
    assert next(c for c in saved if c.title == "Beds").project == garden


def test_past_the_limit_conversations_come_in_outside_any_project(user, other_user, settings):
    _setup(user)
    data = json.dumps(export.export_all(user)).encode()
    settings.CHAT_MAX_PROJECTS = 1
    saved = importing.import_file(user=other_user, data=data)
    assert Project.objects.filter(owner=other_user).count() == 1
    assert len(saved) == 2


def test_files_without_projects_still_import(user):
    _setup(user)
    data = export.export_all(user)
    del data["projects"]
    for conversation in data["conversations"]:
        conversation.pop("project", None)
    assert len(importing.import_file(user=user, data=json.dumps(data).encode())) == 2


@pytest.mark.parametrize(
    "projects",
    [
        "not a list",
        [{"name": ""}],
        [{"name": "x" * 101}],
        [{"name": "Ok", "instructions": "x" * 20_001}],
        [{"name": "Ok", "default_tools": ["t"] * 65}],
    ],
)
def test_bad_projects_are_refused_and_nothing_is_saved(user, projects):
    _setup(user)
    data = export.export_all(user)
    data["projects"] = projects
    before = Conversation.objects.count()
    with pytest.raises(ImportFailed):
        importing.import_file(user=user, data=json.dumps(data).encode())
    assert Conversation.objects.count() == before
