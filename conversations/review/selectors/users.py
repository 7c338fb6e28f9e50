"""Reads for users: their own feedback and reports, and what staff may read of theirs."""

from django.contrib.auth.models import AbstractBaseUser

from ...models import Conversation, Message
from ..models import DatasetOptOut, Feedback, Report
from .access import reviewable_q


def _categories_and_comment(said: Feedback | Report) -> dict:
    return {
        "categories": said.categories,
        "comment": said.comment,
        "updated_at": said.updated_at.isoformat(),
    }


def feedback_data(feedback: Feedback | None) -> dict | None:
    """A user's feedback as the protocol and the JSON endpoints carry it."""
    if feedback is None:
        return None
    return {"rating": feedback.rating, **_categories_and_comment(feedback)}


def report_data(report: Report | None) -> dict | None:
    """A user's report as the JSON endpoints carry it."""
    return None if report is None else _categories_and_comment(report)


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
    """The feedback on a reply: only its conversation's owner gives any."""
    return Feedback.objects.filter(message=message).first()


def own_report(*, conversation: Conversation) -> Report | None:
    """The report on a conversation: only its owner makes one."""
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
