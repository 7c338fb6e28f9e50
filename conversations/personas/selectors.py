"""Reads of personas: a user's own and the shared ones they may use; never another user's.

A shared persona staff published to some groups (an access rule) is for their members
only; a user's own personas are always theirs.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from ..access import kinds
from ..access import policy as access_policy
from ..accounts.models import UserSettings
from .models import Persona


def _kept_from(user: AbstractBaseUser) -> list[int]:
    """Shared personas access rules keep from this user (by id)."""
    access = access_policy.current().user(user.pk)
    return [int(name) for name in access.kept_from(kinds.PERSONA) if name.isdigit()]


def _usable(user: AbstractBaseUser) -> QuerySet[Persona]:
    shared = Q(owner__isnull=True) & ~Q(pk__in=_kept_from(user))
    return Persona.objects.filter(shared | Q(owner=user))


def persona_get(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """A persona the user may use (their own, or shared and not kept from them), or None."""
    return _usable(user).filter(pk=persona_id).first()


def persona_get_seen(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """Their own or a shared persona, whatever the access rules say (the caller checks them,
    and says why one is kept from the user), or None."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user), pk=persona_id).first()


def persona_list(*, user: AbstractBaseUser) -> QuerySet[Persona]:
    """Every persona the user may use: their own, and shared ones not kept from them."""
    return _usable(user)


def persona_get_owned(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """One of the user's own personas (never a shared one), or None."""
    return Persona.objects.filter(owner=user, pk=persona_id).first()


def default_persona(*, user: AbstractBaseUser, chosen: UserSettings) -> Persona | None:
    """The persona new chats start with, if the user may still use it."""
    if chosen.default_persona_id is None:
        return None
    return persona_get(user=user, persona_id=chosen.default_persona_id)


SHARED_LISTED = 1000  # Shared personas the admin's access form lists.


def shared_names() -> list[tuple[str, str]]:
    """Shared personas as access rules name them: (id, name)."""
    found = Persona.objects.filter(owner__isnull=True).order_by("name", "pk")[:SHARED_LISTED]
    return [(str(pk), f"{name} (#{pk})") for pk, name in found.values_list("pk", "name")]


def shared_name(persona_id: str) -> str:
    """How staff know a shared persona an access rule names."""
    name = Persona.objects.filter(pk=int(persona_id) if persona_id.isdigit() else 0).values_list(
        "name", flat=True
    )
    return f"{next(iter(name), 'a deleted persona')} (#{persona_id})"
