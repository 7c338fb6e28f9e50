"""Reads of the review queue: its counts, its items, and who may be given them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Left

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


# Enough of a flagged reply for a queue row to show its first lines (the row cuts it to
# about 160 characters as text); the database cuts it, so a long reply is never loaded.
ROW_EXCERPT_CHARS = 400


def queue_rows(*, queryset: QuerySet[QueueItem]) -> QuerySet[QueueItem]:
    """The queue's rows with what each shows beside its title, in the list's one query:
    the flagged reply's start and the user's rating or report. (Who has it open comes
    with the admin's list_select_related: a select_related here would replace that.)"""
    return queryset.annotate(
        reply_start=Left("message__content", ROW_EXCERPT_CHARS),
        feedback_rating=F("message__feedback__rating"),
        feedback_categories=F("message__feedback__categories"),
        feedback_comment=F("message__feedback__comment"),
        report_categories=F("conversation__report__categories"),
        report_comment=F("conversation__report__comment"),
    )


def queue_walk(
    *, ordered_ids: list[int], current_id: int, unresolved_only: bool, skip: set[int]
) -> int | None:
    """The item after `current_id` in the queue's order (from its start when it is not
    in it, as after it was resolved out of a filtered list), leaving out `skip` and, if
    asked, resolved and dismissed items."""
    after = (
        ordered_ids[ordered_ids.index(current_id) + 1 :]
        if current_id in ordered_ids
        else ordered_ids
    )
    candidates = [pk for pk in after if pk != current_id and pk not in skip]
    if not unresolved_only:
        return candidates[0] if candidates else None
    open_ids = set(
        QueueItem.objects.filter(pk__in=candidates, status__in=QueueItem.UNRESOLVED).values_list(
            "pk", flat=True
        )
    )
    return next((pk for pk in candidates if pk in open_ids), None)
