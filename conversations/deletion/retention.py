"""Retention, the runner's first job: conversations untouched past their rule
(selectors.py) are deleted through the one deletion service, a batch per transaction,
each conversation checked again with its row locked; those held (an unresolved review
item) or with a turn running stay."""

from django.db.models import Count, QuerySet
from django.utils import timezone

from ..models import Conversation, Message
from . import registry, selectors
from .services import Reason, conversations_delete

# A batch stops taking conversations once they hold this many messages between them (it
# takes one at least): a transaction's size is bounded by messages, not only by
# conversations (CHAT_PURGE_BATCH).
PURGE_BATCH_MESSAGES = 10_000


def bounded(ids: list[int]) -> list[int]:
    """The first of these conversations whose messages fit in one batch (one at least)."""
    counts = dict(
        Message.objects.filter(conversation_id__in=ids)
        .values_list("conversation_id")
        .annotate(n=Count("id"))
        .values_list("conversation_id", "n")
    )
    taken, total = [], 0
    for pk in ids:
        total += counts.get(pk, 0)
        if taken and total > PURGE_BATCH_MESSAGES:
            break
        taken.append(pk)
    return taken


def delete_due(
    due: QuerySet[Conversation], *, reason: Reason, after: int, limit: int
) -> registry.BatchResult:
    """One batch of a purge job: up to `limit` of the `due` conversations with ids above
    `after` (fewer if their messages pass PURGE_BATCH_MESSAGES), deleted in one
    transaction, each checked against `due` again with its row locked."""
    ids = list(due.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return registry.BatchResult(cursor=None)
    ids = bounded(ids)
    deleted = conversations_delete(conversation_ids=ids, reason=reason, within=due)
    return registry.BatchResult(
        cursor=ids[-1],
        counts={"conversations": deleted.conversations, "messages": deleted.messages},
    )


def batch(*, after: int, limit: int) -> registry.BatchResult:
    """Delete up to `limit` due conversations with ids above `after`, in one transaction."""
    due = selectors.retention_due(now=timezone.now())
    return delete_due(due, reason=Reason.RETENTION, after=after, limit=limit)


def preview() -> dict[str, int]:
    """What a run would delete now, and what it would keep though past its rule."""
    now = timezone.now()
    expired = selectors.retention_expired(now=now)
    due = selectors.retention_due(now=now)
    return {
        "conversations": due.count(),
        "messages": Message.objects.filter(conversation__in=due).count(),
        "owners": due.values("owner_id").distinct().count(),
        "held": expired.filter(turn_owner="").count() - due.count(),
        "running": expired.exclude(turn_owner="").count(),
    }


JOB = registry.purge_job(registry.PurgeJob(name="retention", batch=batch, preview=preview))
