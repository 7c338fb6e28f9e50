"""Reads for export: a conversation's whole tree, and what it was sent."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ..accounts.selectors import custom_instructions
from ..files.models import Attachment
from ..model_input import upstream_messages
from ..models import Conversation, Message
from ..selectors import conversation_model, message_branch


def conversation_export(*, conversation: Conversation) -> dict:
    """The export.json document: what the next turn would send, plus identity."""
    persona = conversation.persona
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "model": conversation_model(conversation)[0],
        "persona": {"id": persona.pk, "name": persona.name} if persona else None,
        "messages": [
            message.to_wire()
            for message in upstream_messages(
                conversation=conversation,
                branch=message_branch(conversation=conversation),
                instructions=custom_instructions(user_id=conversation.owner_id),
            )
        ],
    }


def conversation_tree(*, conversation: Conversation) -> list[Message]:
    """Every message of a conversation, every version, oldest first."""
    return list(conversation.messages.order_by("created_at", "id"))


def conversation_list_all(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """Every conversation of a user, archived ones included, oldest first, for export; never
    a temporary chat (its owner may still export it alone while it is open)."""
    return (
        Conversation.objects.filter(owner=user, temporary=False)
        .select_related("persona", "project__default_persona")
        .prefetch_related("tags")  # Each one's tag names, in one query for all.
        .order_by("created_at")
    )


def conversations_imported_before(
    *, user: AbstractBaseUser, fingerprints: list[str]
) -> dict[str, Conversation]:
    """The user's imported conversations with these fingerprints, by fingerprint."""
    found = Conversation.objects.filter(
        owner=user, import_fingerprint__in=[f for f in fingerprints if f]
    ).only("id", "title", "import_fingerprint")
    return {conversation.import_fingerprint: conversation for conversation in found}


def message_files(*, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """The files each of these messages carries, by message id, in the order attached."""
    through = Attachment.messages.through
    links = through.objects.filter(message_id__in=message_ids).select_related("attachment")
    found: dict[int, list[Attachment]] = {}
    for link in links.order_by("attachment__created_at", "id"):
        found.setdefault(link.message_id, []).append(link.attachment)
    return found


def attachments_own(*, user: AbstractBaseUser, ids: list[str]) -> list[Attachment]:
    """The user's own files with these ids (32 hex digits), in that order."""
    found = {a.pk.hex: a for a in Attachment.objects.filter(owner=user, pk__in=ids)}
    return [found[i] for i in ids if i in found]
