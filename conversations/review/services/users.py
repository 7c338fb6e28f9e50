"""Writes for users: their feedback on replies, reports of conversations, dataset opt-outs.

Feedback and reports put things in the review queue, and withdrawing them takes the
items out again unless a reviewer has taken them up.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ...models import Conversation, Message
from ..models import DatasetOptOut, Feedback, Report
from .queue import Reason, queue_auto, queue_drop_untouched


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
            queue_drop_untouched(
                conversation=conversation, message=message, reason=Reason.THUMBS_DOWN
            )
    return feedback


def feedback_withdraw(*, message: Message) -> None:
    """Take back one's rating of a reply."""
    with transaction.atomic():
        Feedback.objects.filter(message=message).delete()
        queue_drop_untouched(
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
        queue_drop_untouched(conversation=conversation, message=None, reason=Reason.REPORT)


def dataset_opt_out_set(*, user: AbstractBaseUser, opted_out: bool) -> None:
    """Keep (or stop keeping) all of a user's conversations out of every dataset."""
    if opted_out:
        DatasetOptOut.objects.get_or_create(user=user)
    else:
        DatasetOptOut.objects.filter(user=user).delete()
