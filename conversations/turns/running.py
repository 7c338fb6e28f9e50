"""Writes for a turn while it runs and as it ends: the messages it adds, progress saves,
the lease's renewal and release, the reply's finish, and the sweep of turns whose process
is gone. Each runs inside a transaction its caller opened (chat/group_commit.py)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import hooks
from ..llm.redact import redact
from ..models import Conversation, Message
from . import sql as turn_sql
from .starts import _set_leaf, lease_seconds

logger = logging.getLogger(__name__)


INTERRUPTED = "The server stopped before this reply finished."


def turn_append(
    *,
    conversation: Conversation,
    parent: Message,
    role: str,
    content: str = "",
    status: str = Message.Status.COMPLETE,
    error: str = "",
    tool_call_id: str = "",
    tool_name: str = "",
    tool_record: dict | None = None,
    release_owner: str = "",
) -> Message:
    """A message a running turn adds (a tool result, a closing note), made the active leaf;
    with `release_owner`, the turn ends with it and gives up its lease."""
    message = Message.objects.create(
        conversation=conversation,
        parent=parent,
        role=role,
        content=content,
        status=status,
        error=error,
        tool_call_id=tool_call_id,
        tool_name=tool_name,
        tool_record=tool_record,
    )
    _set_leaf(conversation, message)
    if release_owner:
        turn_release(conversation_id=conversation.pk, owner=release_owner)
    hooks.message_added.send(sender=Message, message=message, conversation=conversation)
    return message


def turn_release(*, conversation_id: int, owner: str) -> None:
    """Give up a lease this process holds."""
    Conversation.objects.filter(pk=conversation_id, turn_owner=owner).update(
        turn_owner="", turn_expires_at=None
    )


@dataclass
class Progress:
    """A streaming reply's text so far, and its request record if not yet saved."""

    message_id: int
    content: str
    reasoning: str
    request: dict | None = None


def turns_renew(*, owner: str, conversation_ids: list[int]) -> set[int]:
    """Renew this process's leases; returns the conversations whose lease is still its own."""
    leased = Conversation.objects.filter(pk__in=conversation_ids, turn_owner=owner)
    leased.update(turn_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
    return set(leased.values_list("pk", flat=True))


def turns_flush(*, progress: list[Progress]) -> set[int]:
    """Save every streaming reply's text so far; returns the replies that could not be.

    All together first; if that fails, each in a savepoint of its own, so that one reply
    that cannot be saved (whatever is wrong with it) fails alone.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            for item in progress:
                _save_progress(item, now)
        return set()
    except Exception:
        if len(progress) == 1:
            logger.exception("Saving reply %s failed", progress[0].message_id)
            return {progress[0].message_id}
    failed = set()
    for item in progress:
        try:
            with transaction.atomic():
                _save_progress(item, now)
        except Exception:
            logger.exception("Saving reply %s failed", item.message_id)
            failed.add(item.message_id)
    return failed


def _save_progress(item: Progress, now: datetime) -> None:
    fields = {"content": item.content, "reasoning": item.reasoning, "updated_at": now}
    if item.request is not None:
        fields["request"] = item.request
    turn_sql.update(Message, item.message_id, fields)


def turns_expired(*, limit: int = 500) -> list[tuple[int, str]]:
    """Conversations whose turn's lease has expired, with the process that held it."""
    return list(
        Conversation.objects.exclude(turn_owner="")
        .filter(turn_expires_at__lt=timezone.now())
        .values_list("pk", "turn_owner")[:limit]
    )


def turns_sweep(*, conversation_ids: list[int]) -> list[Message]:
    """Interrupt the replies of these conversations' turns, whose process is gone; return
    them, saved.

    Each lease is checked again, locked, in the same transaction: one renewed since it was
    found expired (its process was waiting on the database) is left alone. A reply still
    streaming with no lease at all predates leases (an upgrade): it can never finish either.
    """
    now = timezone.now()
    grace = now - timedelta(seconds=lease_seconds())
    with transaction.atomic():
        expired = list(
            Conversation.objects.select_for_update()
            .filter(pk__in=conversation_ids, turn_expires_at__lt=now)
            .exclude(turn_owner="")
            .values_list("pk", flat=True)
        )
        unfinished = Message.objects.filter(
            status__in=[Message.Status.PENDING, Message.Status.STREAMING]
        ).filter(
            Q(conversation_id__in=expired) | Q(conversation__turn_owner="", updated_at__lt=grace)
        )
        ids = list(unfinished.values_list("pk", flat=True)[:500])
        Message.objects.filter(pk__in=ids).update(
            status=Message.Status.INTERRUPTED, error=INTERRUPTED, updated_at=now
        )
        Conversation.objects.filter(pk__in=expired).update(turn_owner="", turn_expires_at=None)
    return list(Message.objects.filter(pk__in=ids))


def reply_finish(
    *,
    message_id: int,
    status: str,
    content: str,
    reasoning: str = "",
    finish_reason: str = "",
    error: str = "",
    error_detail: str = "",
    first_token_ms: int | None = None,
    duration_ms: int | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    usage_estimated: bool = False,
    tool_calls: list[dict] | None = None,
    reasoning_ms: int | None = None,
    request: dict | None = None,
    release_owner: str = "",
    added_tokens: tuple[int | None, int | None] | None = None,
) -> Message | None:
    """Record how a reply ended, with everything it streamed; None if it was deleted.

    With `release_owner`, the turn ends here: its lease goes in the same transaction,
    so the conversation is free the moment its watchers hear of the end. A continued
    reply passes `added_tokens` (its last request's prompt and completion tokens): it is
    counted once, as a reply, and each of its requests' tokens once.
    """
    fields = {
        "tool_calls": tool_calls or None,
        "status": status,
        "content": content,
        "reasoning": reasoning,
        "finish_reason": finish_reason or "",
        # The client cleans provider errors; this also covers failures of any other kind.
        "error": redact(error, settings.LLM_API_KEY),
        "error_detail": redact(error_detail, settings.LLM_API_KEY),
        "first_token_ms": first_token_ms,
        "duration_ms": duration_ms,
        "reasoning_ms": reasoning_ms,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "usage_estimated": usage_estimated,
        "updated_at": timezone.now(),
    }
    if request is not None:
        fields["request"] = request
    updated = turn_sql.update(Message, message_id, fields)
    if release_owner:
        turn_sql.release_by_message(message_id=message_id, owner=release_owner)
    if not updated:
        return None
    message = turn_sql.get(Message, message_id)
    if added_tokens is None:
        hooks.reply_finished.send(sender=Message, message=message)
    else:
        hooks.reply_continued.send(sender=Message, message=message, added_tokens=added_tokens)
    return message
