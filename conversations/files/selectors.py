"""Reads of attachments: a user's own, a message's, and the totals the limits count."""

from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Sum

from ..models import Conversation, Message
from .models import Attachment, file_storage

# Unsent uploads one user may hold at once, in multiples of the per-message count: room
# for drafts in a few conversations, not a store of files never sent.
UNSENT_MESSAGES = 5


def attachment_own(*, user: AbstractBaseUser, attachment_id: str | UUID) -> Attachment | None:
    """The user's own attachment, or None (missing, malformed or another's: the same)."""
    try:
        key = attachment_id if isinstance(attachment_id, UUID) else UUID(str(attachment_id))
    except ValueError:
        return None
    return Attachment.objects.filter(pk=key, owner_id=user.pk).first()


def attachments_own(*, user_id: int, ids: list[str]) -> list[Attachment] | None:
    """The user's own attachments with these ids, in that order; None when any is missing,
    malformed or another's (the caller refuses as for an unknown id)."""
    try:
        keys = [UUID(str(i)) for i in ids]
    except ValueError:
        return None
    found = {a.pk: a for a in Attachment.objects.filter(pk__in=keys, owner_id=user_id)}
    if len(found) != len(set(keys)):
        return None
    return [found[key] for key in dict.fromkeys(keys)]


def bytes_used(*, user_id: int) -> int:
    """Bytes of all the user's stored files."""
    return Attachment.objects.filter(owner_id=user_id).aggregate(n=Sum("size"))["n"] or 0


def unsent_count(*, user_id: int) -> int:
    return Attachment.objects.filter(owner_id=user_id, messages__isnull=True).count()


def attachment_data(attachment: Attachment) -> dict:
    """An attachment as frames and the upload's answer carry it."""
    return {
        "id": str(attachment.pk),
        "name": attachment.name,
        "size": attachment.size,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "pages": attachment.pages,
        "note": attachment.note,
    }


def attachments_by_message(*, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """Each message's attachments (one query), in upload order; messages without none."""
    through = Attachment.messages.through
    links = (
        through.objects.filter(message_id__in=message_ids)
        .select_related("attachment")
        .order_by("attachment__created_at", "attachment_id")
    )
    found: dict[int, list[Attachment]] = {}
    for link in links:
        found.setdefault(link.message_id, []).append(link.attachment)
    return found


def with_attachments(messages: list[Message]) -> list[Message]:
    """The messages, each user message given its attachments (`message.files`), in one
    query for them all; the frames and the upstream request read them from there."""
    users = [m.pk for m in messages if m.role == Message.Role.USER and m.pk is not None]
    found = attachments_by_message(message_ids=users) if users else {}
    for message in messages:
        message.files = found.get(message.pk, [])
    return messages


def attachment_anyones(*, attachment_id: str) -> tuple[Attachment, list[Conversation]] | None:
    """Any attachment by id, with the conversations whose messages carry it (for the
    hook that lets others than its owner see it); None when there is none."""
    try:
        key = UUID(str(attachment_id))
    except ValueError:
        return None
    attachment = Attachment.objects.filter(pk=key).first()
    if attachment is None:
        return None
    conversations = list(
        Conversation.objects.filter(messages__attachments=attachment).distinct()[:10]
    )
    return attachment, conversations


def attachment_open(attachment: Attachment):
    """The stored bytes, open for reading (raises OSError when they are gone)."""
    return file_storage().open(attachment.file.name, "rb")
