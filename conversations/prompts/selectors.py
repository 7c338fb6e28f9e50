"""Reads of prompts: a user's own and the shared ones they may use; never another user's.

A shared prompt staff published to some groups (an access rule of kind PROMPT, naming
its id) is for their members only; a user's own prompts are always theirs.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ..access import kinds
from ..access import policy as access_policy
from .models import Prompt

SHARED_LISTED = 500  # Shared prompts one user's menu lists, and the admin's access form.
# A user's own, listed: CHAT_MAX_PROMPTS_PER_USER keeps them fewer, unless it was lowered
# after they were made (then all still show, to be deleted), up to this.
OWN_LISTED = 5000


def _kept_from(user: AbstractBaseUser) -> list[int]:
    """Shared prompts access rules keep from this user (by id)."""
    access = access_policy.current().user(user.pk)
    return [int(name) for name in access.kept_from(kinds.PROMPT) if name.isdigit()]


def prompt_list_own(*, user: AbstractBaseUser) -> QuerySet[Prompt]:
    """The user's own prompts, by command."""
    return Prompt.objects.filter(owner=user).order_by("command", "pk")


def prompt_list(*, user: AbstractBaseUser) -> list[Prompt]:
    """Every prompt the user may use: their own (at most OWN_LISTED), then the shared ones
    not kept from them (at most SHARED_LISTED), each by command."""
    shared = (
        Prompt.objects.filter(owner__isnull=True)
        .exclude(pk__in=_kept_from(user))
        .order_by("command", "pk")[:SHARED_LISTED]
    )
    return [*prompt_list_own(user=user)[:OWN_LISTED], *shared]


def prompt_get_owned(*, user: AbstractBaseUser, prompt_id: int) -> Prompt | None:
    """One of the user's own prompts (never a shared one, nor another user's), or None."""
    return Prompt.objects.filter(owner=user, pk=prompt_id).first()


def prompt_count_owned(*, user: AbstractBaseUser) -> int:
    return Prompt.objects.filter(owner=user).count()


def prompt_commands_owned(*, user: AbstractBaseUser) -> set[str]:
    return set(Prompt.objects.filter(owner=user).values_list("command", flat=True))


def shared_names() -> list[tuple[str, str]]:
    """Shared prompts as access rules name them: (id, label)."""
    found = Prompt.objects.filter(owner__isnull=True).order_by("command", "pk")[:SHARED_LISTED]
    return [
        (str(pk), f"/{command}: {title} (#{pk})")
        for pk, command, title in found.values_list("pk", "command", "title")
    ]


def shared_name(prompt_id: str) -> str:
    """How staff know a shared prompt an access rule names."""
    found = Prompt.objects.filter(
        owner__isnull=True, pk=int(prompt_id) if prompt_id.isdigit() else 0
    ).values_list("command", flat=True)
    command = next(iter(found), None)
    return f"/{command} (#{prompt_id})" if command else f"a deleted prompt (#{prompt_id})"
