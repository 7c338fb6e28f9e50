"""Writes for projects: make, edit and delete a user's projects, and move conversations
in and out of them. Every check a form or a frame needs is here, so both say the same."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ..deletion import services as deletion
from ..models import Conversation
from ..personas import selectors as persona_selectors
from ..personas.models import Persona
from . import selectors
from .models import INSTRUCTIONS_CHARS, MAX_TOOLS, NAME_CHARS, Project

DELETE_BATCH = 500  # Conversations deleted per transaction when a project goes with them.


class ProjectInvalid(ValueError):
    """A project's fields break a rule; the words are fit to show, `field` says which."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ProjectFields:
    """What a user sets of a project."""

    name: str
    instructions: str = ""
    default_persona: int | None = None
    default_model: str = ""
    default_tools: tuple[str, ...] = ()


def _checked(
    *,
    owner: AbstractBaseUser,
    fields: ProjectFields,
    allowed_tools: Iterable[str],
    project: Project | None,
) -> tuple[str, Persona | None, list[str]]:
    name = " ".join(fields.name.split())
    if not name:
        raise ProjectInvalid("Give the project a name.", field="name")
    if len(name) > NAME_CHARS:
        raise ProjectInvalid(f"A name has at most {NAME_CHARS} characters.", field="name")
    taken = selectors.project_list(user=owner).filter(name=name)
    if project is not None:
        taken = taken.exclude(pk=project.pk)
    if taken.exists():
        raise ProjectInvalid("You already have a project with this name.", field="name")
    if len(fields.instructions) > INSTRUCTIONS_CHARS:
        raise ProjectInvalid(
            f"Instructions have at most {INSTRUCTIONS_CHARS:,} characters.", field="instructions"
        )
    persona = None
    if fields.default_persona is not None:
        # Only a persona the user may use now: their own, or a shared one not kept from them.
        persona = persona_selectors.persona_get(user=owner, persona_id=fields.default_persona)
        if persona is None:
            raise ProjectInvalid("That persona does not exist.", field="default_persona")
    if len(fields.default_model) > 200:
        raise ProjectInvalid("That model does not exist.", field="default_model")
    tools = list(dict.fromkeys(fields.default_tools))
    allowed = frozenset(allowed_tools)
    if len(tools) > MAX_TOOLS or any(tool not in allowed for tool in tools):
        raise ProjectInvalid("Pick only tools you may use.", field="default_tools")
    return name, persona, tools


def project_create(
    *, owner: AbstractBaseUser, fields: ProjectFields, allowed_tools: Iterable[str]
) -> Project:
    """A new project for `owner`; `allowed_tools` are the tools the owner may use now."""
    with transaction.atomic():
        if selectors.project_count(user=owner) >= settings.CHAT_MAX_PROJECTS:
            raise ProjectInvalid(
                f"You have {settings.CHAT_MAX_PROJECTS} projects, the most allowed: "
                "delete one first."
            )
        name, persona, tools = _checked(
            owner=owner, fields=fields, allowed_tools=allowed_tools, project=None
        )
        return Project.objects.create(
            owner=owner,
            name=name,
            instructions=fields.instructions,
            default_persona=persona,
            default_model=fields.default_model,
            default_tools=tools,
        )


def project_update(
    *, project: Project, fields: ProjectFields, allowed_tools: Iterable[str]
) -> Project:
    """Edit a project; chats in it use the new instructions from their next reply on."""
    name, persona, tools = _checked(
        owner=project.owner, fields=fields, allowed_tools=allowed_tools, project=project
    )
    project.name = name
    project.instructions = fields.instructions
    project.default_persona = persona
    project.default_model = fields.default_model
    project.default_tools = tools
    project.save()
    return project


def project_delete(*, project: Project, with_conversations: bool) -> int:
    """Delete a project, and its conversations too if asked (through the deletion service,
    in batches); kept ones move out of it. Returns how many conversations were deleted."""
    deleted = 0
    if with_conversations:
        ids = selectors.project_conversation_ids(project=project)
        for start in range(0, len(ids), DELETE_BATCH):
            done = deletion.conversations_delete(
                conversation_ids=ids[start : start + DELETE_BATCH],
                reason=deletion.Reason.USER,
            )
            deleted += done.conversations
    with transaction.atomic():
        Conversation.objects.filter(project=project).update(project=None)
        project.delete()
    return deleted


def conversation_move(*, conversation: Conversation, project: Project | None) -> Conversation:
    """Put a conversation in a project (the caller checked both are the user's), or take
    it out (None). Its place in the date groups stays: updated_at is left alone."""
    if project is not None and project.owner_id != conversation.owner_id:
        raise ValueError("a conversation moves only into its owner's project")
    conversation.project = project
    Conversation.objects.filter(pk=conversation.pk).update(project=project)
    return conversation
