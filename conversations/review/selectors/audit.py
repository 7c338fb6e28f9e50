"""Reads of the audit log, for the superusers' admin page."""

from django.db.models import Exists, OuterRef, QuerySet

from ...models import Conversation
from ..models import AuditEntry


def audit_log(*, queryset: QuerySet[AuditEntry] | None = None) -> QuerySet[AuditEntry]:
    """Audit entries, each marked with whether its conversation still exists."""
    queryset = AuditEntry.objects.all() if queryset is None else queryset
    return queryset.annotate(
        conversation_exists=Exists(Conversation.objects.filter(pk=OuterRef("conversation_id")))
    )


def audit_log_about(*, queryset: QuerySet[AuditEntry], object_id: int) -> QuerySet[AuditEntry]:
    """The entries about a conversation with this id, or about anything of the user with it."""
    return queryset.filter(conversation_id=object_id) | queryset.filter(owner_id=object_id)
