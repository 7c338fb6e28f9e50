"""Writes: users' feedback and reports, the review queue, dataset opt-outs, and the hooks
the conversations app calls as messages are saved."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ..models import Conversation, Message
from . import audit, stats
from .models import UNRESOLVED_Q, DatasetOptOut, Feedback, QueueItem, Report

Reason = QueueItem.Reason
Status = QueueItem.Status
# Automatic items that stand for the whole conversation: one unresolved item each is
# enough (a conversation failing ten times is one thing to look at, not ten).
ONE_PER_CONVERSATION = {Reason.REPORT, Reason.ERROR, Reason.TOOL_ERROR}


# Hooks called by conversations.services: one call each, kept cheap.


def message_created(message: Message, conversation: Conversation) -> None:
    """A message was saved: count it, and queue a tool's error for review.

    A reply, and the user's message it answers, are counted when the reply ends
    (reply_finished), not as they are saved.
    """
    if message.role == Message.Role.USER or message.status in (
        Message.Status.STREAMING,
        Message.Status.PENDING,
    ):
        return
    stats.record_message(message=message, persona_id=conversation.persona_id)
    if message.role == Message.Role.TOOL and message.content.startswith("Error:"):
        queue_auto(conversation=conversation, message=message, reason=Reason.TOOL_ERROR)


def reply_finished(message: Message) -> None:
    """A reply ended: count it, and queue it for review if it failed."""
    stats.record_reply(message=message)
    if message.status == Message.Status.ERROR:
        queue_auto(conversation=message.conversation, message=message, reason=Reason.ERROR)


def reply_continued(message: Message, *, added_tokens: tuple[int | None, int | None]) -> None:
    """A reply was continued: it was counted when it first ended; count the new request's
    tokens, and queue it for review if the continuation failed."""
    stats.record_tokens(message=message, prompt=added_tokens[0], completion=added_tokens[1])
    if message.status == Message.Status.ERROR:
        queue_auto(conversation=message.conversation, message=message, reason=Reason.ERROR)


# The queue.


def queue_auto(*, conversation: Conversation, message: Message | None, reason: str) -> QueueItem:
    """Queue something automatically, unless the same thing is already waiting."""
    waiting = QueueItem.objects.filter(UNRESOLVED_Q, conversation=conversation, reason=reason)
    if reason not in ONE_PER_CONVERSATION:
        waiting = waiting.filter(message=message)
    existing = waiting.first()
    if existing is not None:
        return existing
    return QueueItem.objects.create(
        conversation=conversation,
        message=message,
        reason=reason,
        model=(message.model if message else "") or conversation.model,
    )


def _drop_untouched(*, conversation: Conversation, message: Message | None, reason: str) -> None:
    """Withdrawn feedback takes its item out of the queue unless a reviewer has taken it up."""
    QueueItem.objects.filter(
        conversation=conversation,
        message=message,
        reason=reason,
        status=Status.OPEN,
        assignee__isnull=True,
    ).delete()


def queue_add(
    *, actor: AbstractBaseUser, conversation: Conversation, message: Message | None = None
) -> QueueItem:
    """Staff add a conversation, or one reply in it, to the queue by hand."""
    item = QueueItem.objects.create(
        conversation=conversation,
        message=message,
        reason=Reason.MANUAL,
        model=(message.model if message else "") or conversation.model,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action=audit.Action.QUEUE_ADD,
        conversation=conversation,
        message=message,
        queue_item_id=item.pk,
    )
    return item


def queue_assign(
    *, actor: AbstractBaseUser, items: list[QueueItem], assignee: AbstractBaseUser | None
) -> int:
    """Give items to a reviewer (None: to nobody); an open item goes into review."""
    for item in items:
        item.assignee = assignee
        if assignee is not None and item.status == Status.OPEN:
            item.status = Status.IN_REVIEW
        item.save(update_fields=["assignee", "status", "updated_at"])
        audit.record(
            actor=actor,
            action=audit.Action.QUEUE_ASSIGN,
            conversation=item.conversation,
            queue_item_id=item.pk,
            detail={"assignee": assignee.get_username() if assignee else None},
        )
    return len(items)


class BadTransition(ValueError):
    """A status change the workflow does not allow."""


# open → in review → resolved or dismissed; closed items may be reopened.
TRANSITIONS = {
    Status.OPEN: {Status.IN_REVIEW, Status.RESOLVED, Status.DISMISSED},
    Status.IN_REVIEW: {Status.OPEN, Status.RESOLVED, Status.DISMISSED},
    Status.RESOLVED: {Status.OPEN},
    Status.DISMISSED: {Status.OPEN},
}


def queue_set_status(
    *, actor: AbstractBaseUser, items: list[QueueItem], status: str, note: str = ""
) -> int:
    """Move items along the workflow, with a resolution note when closing them."""
    for item in items:
        if status not in TRANSITIONS[item.status]:
            raise BadTransition(
                f"Item #{item.pk} is {item.get_status_display().lower()}: "
                f"it cannot become {Status(status).label.lower()}."
            )
    for item in items:
        previous = item.status
        item.status = status
        if status in (Status.RESOLVED, Status.DISMISSED):
            item.resolved_by, item.resolved_at = actor, timezone.now()
            if note:
                item.resolution_note = note
        elif status == Status.OPEN:
            item.resolved_by = item.resolved_at = None
        if status == Status.IN_REVIEW and item.assignee_id is None:
            item.assignee = actor
        item.save()
        audit.record(
            actor=actor,
            action=audit.Action.QUEUE_STATUS,
            conversation=item.conversation,
            message=item.message,
            queue_item_id=item.pk,
            detail={"from": previous, "to": status},
        )
    return len(items)


# Users' own feedback and reports.


def feedback_set(
    *, user: AbstractBaseUser, message: Message, rating: str, categories: list[str], comment: str
) -> Feedback:
    """Rate a reply (again); a thumbs down puts it in the review queue."""
    conversation = message.conversation
    with transaction.atomic():
        feedback, created = Feedback.objects.select_for_update().get_or_create(
            message=message,
            defaults={"conversation": conversation, "user": user, "rating": rating},
        )
        previous = None if created else feedback.rating
        feedback.rating, feedback.categories, feedback.comment = rating, categories, comment
        feedback.save()
        if rating == Feedback.Rating.DOWN:
            queue_auto(conversation=conversation, message=message, reason=Reason.THUMBS_DOWN)
        elif previous == Feedback.Rating.DOWN:
            _drop_untouched(conversation=conversation, message=message, reason=Reason.THUMBS_DOWN)
    return feedback


def feedback_withdraw(*, message: Message) -> None:
    """Take back one's rating of a reply."""
    with transaction.atomic():
        Feedback.objects.filter(message=message).delete()
        _drop_untouched(
            conversation=message.conversation, message=message, reason=Reason.THUMBS_DOWN
        )


def report_set(
    *, user: AbstractBaseUser, conversation: Conversation, categories: list[str], comment: str
) -> Report:
    """Report one's own conversation (again); it goes into the review queue."""
    with transaction.atomic():
        report, _ = Report.objects.select_for_update().get_or_create(
            conversation=conversation, defaults={"user": user}
        )
        report.categories, report.comment = categories, comment
        report.save()
        queue_auto(conversation=conversation, message=None, reason=Reason.REPORT)
    return report


def report_withdraw(*, conversation: Conversation) -> None:
    """Take back one's report."""
    with transaction.atomic():
        Report.objects.filter(conversation=conversation).delete()
        _drop_untouched(conversation=conversation, message=None, reason=Reason.REPORT)


def dataset_opt_out_set(*, user: AbstractBaseUser, opted_out: bool) -> None:
    """Keep (or stop keeping) all of a user's conversations out of every dataset."""
    if opted_out:
        DatasetOptOut.objects.get_or_create(user=user)
    else:
        DatasetOptOut.objects.filter(user=user).delete()
