"""Projects on import: the user's own project of each name a file uses, made when they
have none so named (within CHAT_MAX_PROJECTS; past it, conversations come in without one)."""

from django.contrib.auth.models import AbstractBaseUser

from ..chat.assembly import usable_tools
from ..personas import selectors as persona_selectors
from ..projects import selectors as project_selectors
from ..projects import services as project_services
from ..projects.models import Project
from .schema import NewConversation, ProjectIn


def projects_for(
    *, user: AbstractBaseUser, listed: list[ProjectIn], conversations: list[NewConversation]
) -> dict[str, Project]:
    """The user's project for each name the file uses (its own list first, then each
    conversation's), by name. An existing project of that name is used as it is."""
    wanted: dict[str, ProjectIn] = {}
    for project in [*listed, *(c.project for c in conversations if c.project is not None)]:
        wanted.setdefault(" ".join(project.name.split()), project)
    if not wanted:
        return {}
    have = {p.name: p for p in project_selectors.project_list(user=user).filter(name__in=wanted)}
    allowed = usable_tools(user_id=user.pk)
    for name, project in wanted.items():
        if name in have:
            continue
        try:
            have[name] = project_services.project_create(
                owner=user, fields=_fields(user, name, project, allowed), allowed_tools=allowed
            )
        except project_services.ProjectInvalid:
            continue  # Over the limit: its conversations come in outside any project.
    return {
        original: have[name]
        for original in {
            p.name for p in [*listed, *(c.project for c in conversations if c.project)]
        }
        if (name := " ".join(original.split())) in have
    }


def _fields(
    user: AbstractBaseUser, name: str, project: ProjectIn, allowed: frozenset[str]
) -> project_services.ProjectFields:
    """A file's project as this user may have it: its persona only if they may use one of
    that id and name, its tools only those they may use."""
    persona = None
    if project.default_persona is not None:
        found = persona_selectors.persona_get(user=user, persona_id=project.default_persona.id)
        if found is not None and found.name == project.default_persona.name:
            persona = found.pk
    return project_services.ProjectFields(
        name=name,
        instructions=project.instructions,
        default_persona=persona,
        default_model=project.default_model,
        default_tools=tuple(t for t in project.default_tools if t in allowed),
    )
