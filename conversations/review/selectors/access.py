"""Reads: which conversations staff may find and open, and what the admin shows of them."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from ...models import Conversation, Message
from .. import permissions
from ..models import Feedback, QueueItem


def reviewable_q() -> Q:
    """Conversations any reviewer may open: rated by their user, or in the review queue
    (reported, failed, or added by staff allowed to open any conversation); never a
    temporary chat, which is never reviewed even when rated."""
    return (
        Q(Exists(QueueItem.objects.filter(conversation=OuterRef("pk"))))
        | Q(Exists(Feedback.objects.filter(conversation=OuterRef("pk"))))
    ) & Q(temporary=False)


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


def message_count(*, conversations: Iterable[Conversation]) -> int:
    """How many messages these conversations hold (what deleting them removes): one query."""
    return Message.objects.filter(conversation__in=list(conversations)).count()


def message_with_conversation(*, message_id: int | str) -> Message | None:
    """Any message by id, with its conversation (for the superusers' raw message admin)."""
    return Message.objects.select_related("conversation").filter(pk=message_id).first()
