"""Projects' writes: make, edit, delete (with or without their conversations), the bounds,
and moving conversations; another user's persona or a tool not allowed is refused."""

import pytest

from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.projects import services
from conversations.projects.models import INSTRUCTIONS_CHARS, Project
from conversations.projects.services import ProjectFields, ProjectInvalid

pytestmark = pytest.mark.django_db
TOOLS = frozenset({"calculator", "current_time"})


def make(owner, name="Garden", **fields) -> Project:
    return services.project_create(
        owner=owner, fields=ProjectFields(name=name, **fields), allowed_tools=TOOLS
    )


def test_a_project_keeps_its_name_instructions_and_defaults(user):
    persona = Persona.objects.create(owner=user, name="Tutor", system_prompt="Teach.")
    project = make(
        user,
        name="  Garden   plans ",
        instructions="Answer as a gardener.",
        default_persona=persona.pk,
        default_model="test-model",
        default_tools=("calculator", "calculator"),
    )
    project.refresh_from_db()
    assert project.name == "Garden plans"  # Spaces folded, as a title's are.
    assert project.instructions == "Answer as a gardener."
    assert project.default_persona == persona and project.default_model == "test-model"
    assert project.default_tools == ["calculator"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Garden", "instructions": "x" * (INSTRUCTIONS_CHARS + 1)}, "instructions"),
        ({"name": "Garden", "default_tools": ("shell",)}, "default_tools"),
        ({"name": "Garden", "default_persona": 999_999}, "default_persona"),
    ],
)
def test_fields_out_of_bounds_are_refused(user, fields, field):
    with pytest.raises(ProjectInvalid) as refused:
        services.project_create(owner=user, fields=ProjectFields(**fields), allowed_tools=TOOLS)
    assert refused.value.field == field
    assert not Project.objects.exists()


def test_names_are_unique_per_owner_only(user, other_user):
    make(user, "Garden")
    with pytest.raises(ProjectInvalid):
        make(user, "Garden")
    make(other_user, "Garden")  # Another user's project of the same name is no clash.
    other = make(user, "Kitchen")
    with pytest.raises(ProjectInvalid):  # Renamed onto an existing one.
        services.project_update(
            project=other, fields=ProjectFields(name="Garden"), allowed_tools=TOOLS
        )


def test_another_users_persona_is_no_default(user, other_user):
    theirs = Persona.objects.create(owner=other_user, name="Theirs")
    with pytest.raises(ProjectInvalid) as refused:
        make(user, default_persona=theirs.pk)
    assert refused.value.field == "default_persona"


def test_the_number_of_projects_is_bounded(user, settings):
    settings.CHAT_MAX_PROJECTS = 2
    make(user, "One")
    make(user, "Two")
    with pytest.raises(ProjectInvalid):
        make(user, "Three")
    assert Project.objects.filter(owner=user).count() == 2


def test_edit_changes_what_later_replies_use(user):
    project = make(user, instructions="Old.")
    services.project_update(
        project=project,
        fields=ProjectFields(name="Garden", instructions="New.", default_tools=("current_time",)),
        allowed_tools=TOOLS,
    )
    project.refresh_from_db()
    assert (project.instructions, project.default_tools) == ("New.", ["current_time"])


def _conversation_in(project, title="In it") -> Conversation:
    conversation = Conversation.objects.create(owner=project.owner, title=title, project=project)
    Message.objects.create(conversation=conversation, role="user", content="hello")
    return conversation


def test_delete_keeping_the_conversations_moves_them_out(user):
    project = make(user)
    kept = _conversation_in(project)
    assert services.project_delete(project=project, with_conversations=False) == 0
    kept.refresh_from_db()
    assert kept.project_id is None and kept.messages.count() == 1
    assert not Project.objects.exists()


def test_delete_with_the_conversations_deletes_them_through_the_deletion_service(user):
    project = make(user)
    gone = [_conversation_in(project, f"c{i}") for i in range(3)]
    outside = Conversation.objects.create(owner=user, title="Outside")
    assert services.project_delete(project=project, with_conversations=True) == 3
    assert not Conversation.objects.filter(pk__in=[c.pk for c in gone]).exists()
    assert not Message.objects.filter(conversation_id__in=[c.pk for c in gone]).exists()
    assert Conversation.objects.filter(pk=outside.pk).exists()


def test_move_in_and_out_and_never_into_another_users_project(user, other_user):
    project = make(user)
    conversation = Conversation.objects.create(owner=user, title="Loose")
    services.conversation_move(conversation=conversation, project=project)
    assert Conversation.objects.get(pk=conversation.pk).project == project
    services.conversation_move(conversation=conversation, project=None)
    assert Conversation.objects.get(pk=conversation.pk).project is None
    theirs = make(other_user, "Theirs")
    with pytest.raises(ValueError):
        services.conversation_move(conversation=conversation, project=theirs)
    assert Conversation.objects.get(pk=conversation.pk).project is None
