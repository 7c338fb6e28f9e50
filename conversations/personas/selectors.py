"""Reads of personas: a user's own and the shared ones; never another user's."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from ..accounts.models import UserSettings
from .models import Persona


def persona_get(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """A persona the user may use (shared or their own), or None."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user), pk=persona_id).first()


def persona_list(*, user: AbstractBaseUser) -> QuerySet[Persona]:
    """Every persona the user may use: shared ones and their own."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def persona_get_owned(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """One of the user's own personas (never a shared one), or None."""
    return Persona.objects.filter(owner=user, pk=persona_id).first()


def default_persona(*, user: AbstractBaseUser, chosen: UserSettings) -> Persona | None:
    """The persona new chats start with, if the user may still use it."""
    if chosen.default_persona_id is None:
        return None
    return persona_get(user=user, persona_id=chosen.default_persona_id)
