"""Writes to the audit log: who saw or did what to which conversation or reply.

Entries carry ids, counts, statuses and scores, never message text, notes or search
words, so they can outlive the conversation as content-free tombstones.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from ...models import Conversation, Message
from ..models import AuditEntry


def audit_record(
    *,
    actor: AbstractBaseUser,
    action: str,
    conversation: Conversation | None = None,
    message: Message | None = None,
    queue_item_id: int | None = None,
    detail: dict | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Add one entry; the conversation's owner is recorded beside its id."""
    if message is not None and conversation is None:
        conversation = message.conversation
    return AuditEntry.objects.create(
        actor_id=actor.pk,
        actor_username=actor.get_username(),
        action=action,
        conversation_id=conversation.pk if conversation else None,
        owner_id=conversation.owner_id if conversation else None,
        message_id=message.pk if message else None,
        queue_item_id=queue_item_id,
        detail=detail or {},
        path=request.path[:300] if request else "",
    )


def audit_record_many(
    *,
    actor: AbstractBaseUser,
    action: str,
    conversations: Iterable[tuple[int, int]],
    detail: dict | None = None,
    request: HttpRequest | None = None,
) -> int:
    """One entry per (conversation id, owner id), in one insert; return how many."""
    entries = [
        AuditEntry(
            actor_id=actor.pk,
            actor_username=actor.get_username(),
            action=action,
            conversation_id=conversation_id,
            owner_id=owner_id,
            detail=detail or {},
            path=request.path[:300] if request else "",
        )
        for conversation_id, owner_id in conversations
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)
