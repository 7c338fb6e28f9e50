"""Reads of the audit log, for the superusers' admin page."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from ...models import Conversation
from ..models import AuditEntry


def audit_log(*, queryset: QuerySet[AuditEntry] | None = None) -> QuerySet[AuditEntry]:
    """Audit entries, each marked with whether its conversation still exists and with
    its owner's username (empty once the account is deleted), in the list's one query."""
    queryset = AuditEntry.objects.all() if queryset is None else queryset
    owners = get_user_model().objects.filter(pk=OuterRef("owner_id"))
    return queryset.annotate(
        conversation_exists=Exists(Conversation.objects.filter(pk=OuterRef("conversation_id"))),
        owner_username=Subquery(owners.values("username")[:1]),
    )


def audit_log_about(*, queryset: QuerySet[AuditEntry], object_id: int) -> QuerySet[AuditEntry]:
    """The entries about a conversation with this id, or about anything of the user with it."""
    return queryset.filter(conversation_id=object_id) | queryset.filter(owner_id=object_id)
