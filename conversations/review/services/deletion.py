"""Writes when conversations are deleted. Staff's deletion goes for good, with every
message, feedback and annotation of it (they cascade), through the one deletion service
(deletion/services.py), and leaves only content-free traces behind: an audit tombstone and
a line in the admin's own history, both naming it by id alone. Deletions by a retention
rule leave one audit entry per batch, of counts."""

from collections.abc import Iterable

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest

from ...deletion import services as deletion
from ...models import Conversation
from ..models import AuditEntry


def conversation_delete_by_staff(
    *, actor: AbstractBaseUser, conversation: Conversation, request: HttpRequest | None = None
) -> None:
    """Delete a conversation for good, recording who did it (the tombstone is written in
    the same transaction, before the rows go: deletions_record)."""
    deletion.conversation_delete(
        conversation=conversation,
        reason=deletion.Reason.STAFF,
        actor=actor,
        path=request.path if request else "",
    )


def deletions_record(
    *,
    conversations: list[tuple[int, int]],
    reason: str,
    actor: AbstractBaseUser | None,
    path: str,
    messages: int,
) -> None:
    """The audit log's side of a deletion (run in its transaction): a tombstone per
    conversation staff deleted, one entry of counts per batch a rule deleted; nothing for
    an owner deleting their own conversations or account."""
    if reason == deletion.Reason.STAFF and actor is not None:
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor_id=actor.pk,
                actor_username=actor.get_username(),
                action=AuditEntry.Action.DELETE,
                conversation_id=conversation_id,
                owner_id=owner_id,
                path=path,
            )
            for conversation_id, owner_id in conversations
        )
    elif reason in deletion.AUTOMATIC:
        AuditEntry.objects.create(
            action=AuditEntry.Action.RETENTION,
            detail={
                "reason": reason,
                "conversations": len(conversations),
                "messages": messages,
                "owners": len({owner_id for _, owner_id in conversations}),
            },
        )


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
