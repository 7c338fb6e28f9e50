"""Temporary chats, the runner's second job: each is deleted through the one deletion
service once its owner closed it (`closed_at`) or CHAT_TEMPORARY_HOURS after it began,
whichever comes first, a bounded batch per transaction. One whose turn still holds its
lease stays until the reply has ended (the next run takes it); no review hold keeps one,
as none is ever queued for review."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import Conversation, Message
from . import registry
from .retention import delete_due
from .services import Reason


def temporary_expired(*, now: datetime) -> QuerySet[Conversation]:
    """Temporary chats closed, or begun more than CHAT_TEMPORARY_HOURS ago, running or not."""
    oldest = now - timedelta(hours=settings.CHAT_TEMPORARY_HOURS)
    return Conversation.objects.filter(
        Q(closed_at__isnull=False) | Q(created_at__lt=oldest), temporary=True
    )


def temporary_due(*, now: datetime) -> QuerySet[Conversation]:
    """Temporary chats the job deletes now: expired, with no turn holding the lease."""
    return temporary_expired(now=now).filter(turn_owner="")


def batch(*, after: int, limit: int) -> registry.BatchResult:
    """Delete up to `limit` due temporary chats with ids above `after`, in one transaction."""
    due = temporary_due(now=timezone.now())
    return delete_due(due, reason=Reason.TEMPORARY, after=after, limit=limit)


def preview() -> dict[str, int]:
    """What a run would delete now, and how many wait for their reply to end."""
    now = timezone.now()
    due = temporary_due(now=now)
    return {
        "conversations": due.count(),
        "messages": Message.objects.filter(conversation__in=due).count(),
        "running": temporary_expired(now=now).exclude(turn_owner="").count(),
    }


JOB = registry.purge_job(registry.PurgeJob(name="temporary", batch=batch, preview=preview))
