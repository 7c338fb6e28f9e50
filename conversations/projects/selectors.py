"""Reads of projects: only ever the user's own (another user's is "not found")."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet

from ..models import Conversation
from .models import Project


def project_list(*, user: AbstractBaseUser) -> QuerySet[Project]:
    """The user's projects, by name."""
    return Project.objects.filter(owner=user)


def project_get(*, user: AbstractBaseUser, project_id: int) -> Project | None:
    """One of the user's projects, or None (for a missing id and another user's alike)."""
    return Project.objects.filter(owner=user, pk=project_id).first()


def project_count(*, user: AbstractBaseUser) -> int:
    """How many projects the user has."""
    return Project.objects.filter(owner=user).count()


def project_conversation_counts(*, user: AbstractBaseUser) -> dict[int, int]:
    """Unarchived conversations in each of the user's projects, from one aggregate query
    (a project without any is absent)."""
    rows = (
        Conversation.objects.filter(owner=user, archived=False, project__isnull=False)
        .values("project_id")
        .annotate(n=Count("pk"))
        .values_list("project_id", "n")
    )
    return dict(rows)


def project_sidebar(*, user: AbstractBaseUser) -> list[dict]:
    """The sidebar's projects: id, name and count of conversations; two queries."""
    counts = project_conversation_counts(user=user)
    return [
        {"id": pk, "name": name, "count": counts.get(pk, 0)}
        for pk, name in project_list(user=user).values_list("pk", "name")
    ]


def project_conversation_ids(*, project: Project) -> list[int]:
    """Every conversation in a project (archived ones too), by id."""
    return list(Conversation.objects.filter(project=project).values_list("pk", flat=True))
