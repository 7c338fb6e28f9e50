"""Writes to the review queue, and the hooks the conversations app calls as messages are
saved (they count messages for the dashboard and queue failures)."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ...models import Conversation, Message
from .. import stats
from ..models import UNRESOLVED_Q, AuditEntry, QueueItem
from .audit import audit_record

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


class NotQueueable(ValueError):
    """Staff tried to queue a conversation that is never reviewed: a temporary chat."""


TEMPORARY_REFUSED = "A temporary chat is never reviewed: it cannot be added to the queue."


def queue_auto(
    *, conversation: Conversation, message: Message | None, reason: str
) -> QueueItem | None:
    """Queue something automatically, unless the same thing is already waiting; never a
    temporary chat (None)."""
    if conversation.temporary:
        return None
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


def queue_drop_untouched(
    *, conversation: Conversation, message: Message | None, reason: str
) -> None:
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
    """Staff add a conversation, or one reply in it, to the queue by hand; a temporary
    chat is refused (NotQueueable)."""
    if conversation.temporary:
        raise NotQueueable(TEMPORARY_REFUSED)
    item = QueueItem.objects.create(
        conversation=conversation,
        message=message,
        reason=Reason.MANUAL,
        model=(message.model if message else "") or conversation.model,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.QUEUE_ADD,
        conversation=conversation,
        message=message,
        queue_item_id=item.pk,
    )
    return item


def queue_add_many(*, actor: AbstractBaseUser, conversations: Iterable[Conversation]) -> int:
    """Staff add whole conversations to the queue by hand, all or none (NotQueueable if
    any is a temporary chat); return how many."""
    added = 0
    with transaction.atomic():
        for conversation in conversations:
            queue_add(actor=actor, conversation=conversation)
            added += 1
    return added


def queue_assign(
    *, actor: AbstractBaseUser, items: list[QueueItem], assignee: AbstractBaseUser | None
) -> int:
    """Give items to a reviewer (None: to nobody); an open item goes into review."""
    for item in items:
        item.assignee = assignee
        if assignee is not None and item.status == Status.OPEN:
            item.status = Status.IN_REVIEW
        item.save(update_fields=["assignee", "status", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEntry.Action.QUEUE_ASSIGN,
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
        audit_record(
            actor=actor,
            action=AuditEntry.Action.QUEUE_STATUS,
            conversation=item.conversation,
            message=item.message,
            queue_item_id=item.pk,
            detail={"from": previous, "to": status},
        )
    return len(items)
