"""Writes about a user's own account: their settings, ending their sessions, deleting it."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import ProtectedError

from ..models import Conversation, UserSettings
from ..review.models import Correction, ReviewNote, Score
from ..services import conversation_delete

SETTINGS_FIELDS = (
    "theme",
    "default_persona",
    "default_model",
    "custom_instructions",
    "enter_to_send",
)


def user_settings_update(*, user: AbstractBaseUser, **fields) -> UserSettings:
    """Save some of the user's settings (the row is made on the first save)."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not settings fields: {sorted(unknown)}")
    found, _ = UserSettings.objects.update_or_create(user_id=user.pk, defaults=fields)
    return found


def user_sign_out_everywhere(*, user: AbstractBaseUser, password: str) -> None:
    """End every session of the account, on every device, this one included.

    The password is stored again under a new salt: every session keeps a hash of the
    stored password (Django checks it on each request) and no session's matches any
    more, whatever the session store. Open websockets hear of the new password too.
    """
    user.set_password(password)
    user.save(update_fields=["password"])


def user_delete(*, user: AbstractBaseUser) -> None:
    """Delete an account and everything of its: conversations (one transaction each, so
    none is long), personas, settings, ratings and reports. Audit entries about it stay,
    holding ids only; review work the account wrote as staff stays too, so an account
    that wrote any is refused (ProtectedError) before anything is deleted."""
    for model in (Score, ReviewNote, Correction):
        if model.objects.filter(author_id=user.pk).exists():
            raise ProtectedError(
                "The account wrote review work that must stay.", set(model.objects.none())
            )
    for conversation_id in list(
        Conversation.objects.filter(owner_id=user.pk).values_list("pk", flat=True)
    ):
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is not None:
            conversation_delete(conversation=conversation)
    user.delete()
