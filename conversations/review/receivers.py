"""Review's side of the core's hooks (conversations/hooks.py): what review does when a
reply ends or a turn adds a message, what it shows beside a page's replies, which counts it
writes, which accounts it keeps from deletion, what it records of deletions, and which
conversations it holds from retention, which files its reviewers may fetch, and the
share links made and revoked. Connected in ReviewConfig.ready()."""

from django.db.models import ProtectedError

from .. import hooks
from . import stats
from .models import UNRESOLVED_Q, AuditEntry, Correction, QueueItem, ReviewNote, Score
from .selectors import conversation_for_review, feedback_by_message
from .services import (
    audit_record,
    deletions_record,
    message_created,
    reply_continued,
    reply_finished,
)


def on_reply_finished(*, message, **_) -> None:
    reply_finished(message)  # Dashboard counts; queues failed replies for review.


def on_reply_continued(*, message, added_tokens, **_) -> None:
    reply_continued(message, added_tokens=added_tokens)


def on_message_added(*, message, conversation, **_) -> None:
    message_created(message, conversation)  # Dashboard counts; queues tool errors.


def on_page_extras(*, user_id: int, message_ids: list[int], **_) -> dict:
    """The owner's own rating of each reply (protocol field `feedback`)."""
    return {"feedback": feedback_by_message(user_id=user_id, message_ids=message_ids)}


def on_counts_due(**_) -> None:
    stats.flush()


def on_account_deleting(*, user, **_) -> None:
    """Review work an account wrote as staff stays: such an account is not deleted."""
    for model in (Score, ReviewNote, Correction):
        if model.objects.filter(author_id=user.pk).exists():
            raise ProtectedError(
                "The account wrote review work that must stay.", set(model.objects.none())
            )


def on_conversations_deleting(*, conversations, reason, actor, path, messages, **_) -> None:
    """Tombstones of staff's deletions; counts of a rule's (the audit log)."""
    deletions_record(
        conversations=conversations, reason=reason, actor=actor, path=path, messages=messages
    )


def on_deletion_holds(**_):
    """A conversation with an unresolved queue item stays until a reviewer resolves it."""
    return QueueItem.objects.filter(UNRESOLVED_Q).values("conversation_id")


def on_file_requested(*, user, attachment, conversations, request, **_) -> bool:
    """A reviewer may fetch a file of a conversation they may open (one in the queue, or
    any with the permission to open any); each fetch is in the audit log."""
    for conversation in conversations:
        found, reviewable = conversation_for_review(user=user, conversation_id=conversation.pk)
        if found is None:
            continue
        audit_record(
            actor=user,
            action=AuditEntry.Action.VIEW_FILE,
            conversation=found,
            detail={"file": str(attachment.pk), "kind": attachment.kind, "queued": reviewable},
            request=request,
        )
        return True
    return False


SHARE_ACTIONS = {
    "create": AuditEntry.Action.SHARE_CREATE,
    "revoke": AuditEntry.Action.SHARE_REVOKE,
}


def on_share_changed(*, link, action, actor, request, **_) -> None:
    """A share link made or revoked: who, which link, and to whom it was open (never its
    token or what it shows)."""
    audit_record(
        actor=actor,
        action=SHARE_ACTIONS[action],
        conversation=link.conversation,
        detail={
            "link": link.pk,
            "audience": link.audience,
            "instructions": link.include_instructions,
            "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        },
        request=request,
    )


def connect() -> None:
    hooks.share_changed.connect(on_share_changed, dispatch_uid="review.share_changed")
    hooks.file_requested.connect(on_file_requested, dispatch_uid="review.file_requested")
    hooks.reply_finished.connect(on_reply_finished, dispatch_uid="review.reply_finished")
    hooks.reply_continued.connect(on_reply_continued, dispatch_uid="review.reply_continued")
    hooks.message_added.connect(on_message_added, dispatch_uid="review.message_added")
    hooks.page_extras.connect(on_page_extras, dispatch_uid="review.page_extras")
    hooks.counts_due.connect(on_counts_due, dispatch_uid="review.counts_due")
    hooks.account_deleting.connect(on_account_deleting, dispatch_uid="review.account_deleting")
    hooks.conversations_deleting.connect(
        on_conversations_deleting, dispatch_uid="review.conversations_deleting"
    )
    hooks.deletion_holds.connect(on_deletion_holds, dispatch_uid="review.deletion_holds")
