"""Writes when staff delete a conversation: it goes for good, with every message, feedback
and annotation of it (they cascade), and leaves only content-free traces behind: an audit
tombstone and a line in the admin's own history, both naming it by id alone."""

from collections.abc import Iterable

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpRequest

from ... import services as conversation_services
from ...models import Conversation
from ..models import AuditEntry
from .audit import audit_record


def conversation_delete_by_staff(
    *, actor: AbstractBaseUser, conversation: Conversation, request: HttpRequest | None = None
) -> None:
    """Delete a conversation for good, recording who did it (the tombstone is written
    first, so it still knows the conversation's owner)."""
    with transaction.atomic():
        audit_record(
            actor=actor, action=AuditEntry.Action.DELETE, conversation=conversation, request=request
        )
        conversation_services.conversation_delete(conversation=conversation)


def deletions_log(*, actor: AbstractBaseUser, conversations: Iterable[Conversation]) -> None:
    """The admin's history of deletions, without the title the admin would keep."""
    content_type = ContentType.objects.get_for_model(Conversation)
    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=actor.pk,
            content_type=content_type,
            object_id=str(conversation.pk),
            object_repr=f"Conversation #{conversation.pk}",
            action_flag=DELETION,
            change_message="",
        )
        for conversation in conversations
    )
