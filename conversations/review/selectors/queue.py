"""Reads of the review queue: its counts, its items, and who may be given them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db.models import Count, Q, QuerySet

from ...models import Conversation
from ..models import QueueItem


def queue_counts(*, user: AbstractBaseUser) -> dict:
    """Unresolved items by status and by reason, and how many are the user's: one query."""
    rows = (
        QueueItem.objects.filter(status__in=QueueItem.UNRESOLVED)
        .values("status", "reason")
        .annotate(n=Count("id"), mine=Count("id", filter=Q(assignee=user)))
        .order_by()
    )
    counts = {
        "open": 0,
        "in_review": 0,
        "mine": 0,
        "by_reason": dict.fromkeys(QueueItem.Reason.values, 0),
    }
    for row in rows:
        counts[row["status"]] += row["n"]
        counts["mine"] += row["mine"]
        counts["by_reason"][row["reason"]] += row["n"]
    counts["reasons"] = [
        (QueueItem.Reason(reason).label, reason, n) for reason, n in counts["by_reason"].items()
    ]
    return counts


def assignees() -> QuerySet:
    """Active staff who may review: superusers and holders of the review permission."""
    perm = Permission.objects.filter(
        content_type__app_label="review", codename="review_conversations"
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True) | Q(groups__permissions__in=perm) | Q(user_permissions__in=perm)
        )
        .distinct()
        .order_by("username")
    )


def assignee_get(*, user_id: int | str | None) -> AbstractBaseUser | None:
    """One of the assignees by id (as the admin's form sends it), or None (also for
    anyone who may not review)."""
    return assignees().filter(pk=user_id or 0).first()


def queue_item_get(*, item_id: int | str) -> QueueItem | None:
    return QueueItem.objects.filter(pk=item_id).first()


def queue_item_in(*, conversation: Conversation, item_id: int) -> QueueItem | None:
    """An item of this conversation's, or None (also when it is another conversation's)."""
    return QueueItem.objects.filter(conversation=conversation, pk=item_id).first()


def queue_items_chosen(*, items: QuerySet[QueueItem]) -> list[QueueItem]:
    """The items picked in the admin's list, with what their audit entries name."""
    return list(items.select_related("conversation", "message"))
