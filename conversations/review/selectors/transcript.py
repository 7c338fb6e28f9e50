"""Reads behind the transcript view: one query each, whatever the conversation's length."""

from django.db.models.functions import Length

from ...files.models import Attachment
from ...models import Conversation, Message
from ..models import Correction, Feedback, QueueItem, ReviewNote, Score, ScoreConfig


def latest_children(*, conversation: Conversation) -> dict[int, int]:
    """For every message with children, the child shown most recently (or the newest)."""
    children: dict[int, int] = {}
    for pk, parent_id in (
        Message.objects.filter(conversation=conversation, parent__isnull=False)
        .order_by("selected_at", "id")
        .values_list("pk", "parent_id")
    ):
        children[parent_id] = pk
    return children


def message_tree(*, conversation: Conversation) -> tuple[dict[int, int | None], dict[int, int]]:
    """Every message's parent, and for every message with children the child shown most
    recently (or the newest), as latest_children: ids only, one query."""
    parents: dict[int, int | None] = {}
    children: dict[int, int] = {}
    for pk, parent_id in (
        Message.objects.filter(conversation=conversation)
        .order_by("selected_at", "id")
        .values_list("pk", "parent_id")
    ):
        parents[pk] = parent_id
        if parent_id is not None:
            children[parent_id] = pk
    return parents, children


def message_sizes(*, message_ids: list[int]) -> dict[int, int]:
    """Characters of text (content and reasoning) of these messages, counted by the
    database: a page picks what fits before loading any of it."""
    return dict(
        Message.objects.filter(pk__in=message_ids)
        .annotate(size=Length("content") + Length("reasoning"))
        .values_list("pk", "size")
    )


def feedback_for_messages(*, message_ids: list[int]) -> dict[int, Feedback]:
    """The users' feedback on these replies, by message id."""
    return {f.message_id: f for f in Feedback.objects.filter(message_id__in=message_ids)}


def scores_for_messages(*, message_ids: list[int]) -> dict[int, list[Score]]:
    """Every reviewer's scores of these replies, by message id, by config then author."""
    scores: dict[int, list[Score]] = {}
    for score in (
        Score.objects.filter(message_id__in=message_ids)
        .select_related("config", "author")
        .order_by("config__name", "author__username")
    ):
        scores.setdefault(score.message_id, []).append(score)
    return scores


def notes_for_conversation(*, conversation: Conversation) -> dict[int | None, list[ReviewNote]]:
    """Reviewers' notes, oldest first, by message id (None: on the whole conversation)."""
    notes: dict[int | None, list[ReviewNote]] = {}
    for note in ReviewNote.objects.filter(conversation=conversation).select_related("author"):
        notes.setdefault(note.message_id, []).append(note)
    return notes


def corrections_for_messages(*, message_ids: list[int]) -> dict[int, list[Correction]]:
    """Corrections of these replies, oldest first (the last is the one that counts)."""
    corrections: dict[int, list[Correction]] = {}
    for correction in Correction.objects.filter(message_id__in=message_ids).select_related(
        "author"
    ):
        corrections.setdefault(correction.message_id, []).append(correction)
    return corrections


def queue_items_for_conversation(*, conversation: Conversation) -> list[QueueItem]:
    """Every queue item of the conversation, resolved or not, newest first."""
    return list(
        QueueItem.objects.filter(conversation=conversation).select_related("assignee", "created_by")
    )


def score_configs_active() -> list[ScoreConfig]:
    """The score configs offered in the transcript view, by name."""
    return list(ScoreConfig.objects.filter(active=True))


def score_config_active(*, config_id: int | None) -> ScoreConfig | None:
    """One offered score config, or None (also for one no longer offered)."""
    return ScoreConfig.objects.filter(pk=config_id, active=True).first()


def files_for_messages(*, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """The files these messages carry, by message id, in the order attached."""
    found: dict[int, list[Attachment]] = {}
    links = Attachment.messages.through.objects.filter(message_id__in=message_ids)
    for link in links.select_related("attachment").order_by("attachment__created_at", "id"):
        found.setdefault(link.message_id, []).append(link.attachment)
    return found
