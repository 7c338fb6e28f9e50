"""Reads: which conversations staff may open, users' own feedback, queue counts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from ..models import Conversation, Message
from . import permissions
from .models import DatasetOptOut, Feedback, QueueItem, Report


def reviewable_q() -> Q:
    """Conversations any reviewer may open: rated by their user, or in the review queue
    (reported, failed, or added by staff allowed to open any conversation)."""
    return Q(Exists(QueueItem.objects.filter(conversation=OuterRef("pk")))) | Q(
        Exists(Feedback.objects.filter(conversation=OuterRef("pk")))
    )


def conversations_for(*, user: AbstractBaseUser, queryset: QuerySet | None = None) -> QuerySet:
    """The conversations this staff member may find and open; none without review rights."""
    queryset = Conversation.objects.all() if queryset is None else queryset
    if not permissions.can_review(user):
        return queryset.none()
    if permissions.can_open_any(user):
        return queryset
    return queryset.filter(reviewable_q())


def conversation_for_review(
    *, user: AbstractBaseUser, conversation_id: int
) -> tuple[Conversation | None, bool]:
    """(the conversation, whether it is reviewable) when this staff member may open it,
    else (None, False): exactly as for a missing id."""
    found = (
        Conversation.objects.select_related("owner", "persona")
        .filter(pk=conversation_id)
        .annotate(reviewable=reviewable_q())
        .first()
    )
    if found is None or not permissions.can_review(user):
        return None, False
    if not found.reviewable and not permissions.can_open_any(user):
        return None, False
    return found, found.reviewable


def feedback_data(feedback: Feedback | None) -> dict | None:
    """A user's feedback as the protocol and the JSON endpoints carry it."""
    if feedback is None:
        return None
    return {
        "rating": feedback.rating,
        "categories": feedback.categories,
        "comment": feedback.comment,
        "updated_at": feedback.updated_at.isoformat(),
    }


def report_data(report: Report | None) -> dict | None:
    if report is None:
        return None
    return {
        "categories": report.categories,
        "comment": report.comment,
        "updated_at": report.updated_at.isoformat(),
    }


def feedback_by_message(*, user_id: int, message_ids: list[int]) -> dict[int, dict]:
    """The user's own feedback on these replies, by message id: one query."""
    if not message_ids:
        return {}
    return {
        f.message_id: feedback_data(f)
        for f in Feedback.objects.filter(user_id=user_id, message_id__in=message_ids)
    }


def own_assistant_message(*, user: AbstractBaseUser, message_id: int) -> Message | None:
    """An assistant reply in one of the user's conversations, or None (also when it is
    someone else's)."""
    return (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, role=Message.Role.ASSISTANT, conversation__owner=user)
        .first()
    )


def own_feedback(*, message: Message) -> Feedback | None:
    return Feedback.objects.filter(message=message).first()


def own_report(*, conversation: Conversation) -> Report | None:
    return Report.objects.filter(conversation=conversation).first()


def opted_out(*, user: AbstractBaseUser) -> bool:
    return DatasetOptOut.objects.filter(user=user).exists()


def readable_by_staff(*, user: AbstractBaseUser, limit: int = 50) -> list[Conversation]:
    """The user's own conversations that reviewers may open now, newest first."""
    return list(
        Conversation.objects.filter(owner=user)
        .filter(reviewable_q())
        .only("id", "title", "updated_at")
        .order_by("-updated_at")[:limit]
    )


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
