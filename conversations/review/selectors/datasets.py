"""Reads behind dataset exports: which conversations may go in, and what they hold.

Each function reads a chunk of conversations in one query, so an export's cost grows
with its size in chunks, not in messages.
"""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from ... import selectors as conversation_selectors
from ...compare.models import CompareReply, Preference
from ...models import Conversation, Message
from ...personas.models import Persona
from ..models import Correction, DatasetOptOut, Feedback, ReviewNote, Score

# Replies that have ended (a pending or streaming one has nothing to learn from yet).
ENDED = ~Q(status__in=[Message.Status.PENDING, Message.Status.STREAMING])


def eligible_for_datasets(*, queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """The conversations that may go into a dataset: never those of users who opted out,
    never a temporary chat."""
    return queryset.exclude(owner_id__in=DatasetOptOut.objects.values("user_id")).exclude(
        temporary=True
    )


def dataset_conversations(
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    model: str = "",
    persona: Persona | None = None,
) -> QuerySet[Conversation]:
    """Conversations active on or after `since` and begun on or before `until` (UTC days),
    with this model and persona when given."""
    found = Conversation.objects.all()
    found = found.filter(
        conversation_selectors.within_days("updated_at", since=since, until=None),
        conversation_selectors.within_days("created_at", since=None, until=until),
    )
    if model:
        found = found.filter(model=model)
    if persona:
        found = found.filter(persona=persona)
    return found


def dataset_rows(*, queryset: QuerySet[Conversation], limit: int) -> list[tuple[int, int]]:
    """(id, owner id) of at most `limit` of these conversations that may go into a
    dataset, by id."""
    return list(
        eligible_for_datasets(queryset=queryset)
        .order_by("pk")
        .values_list("pk", "owner_id")[:limit]
    )


def dataset_personas() -> QuerySet[Persona]:
    """The shared personas, which an export may be narrowed to."""
    return Persona.objects.filter(owner__isnull=True)


def dataset_opt_out_count() -> int:
    """How many users keep their conversations out of every dataset."""
    return DatasetOptOut.objects.count()


def good_replies(*, conversation_ids: list[int]) -> list[Message]:
    """Replies rated up by their user or scored yes on a "good example" config, in order."""
    good = Q(feedback__rating=Feedback.Rating.UP) | Q(
        scores__config__marks_good_example=True, scores__value=1
    )
    return list(
        Message.objects.filter(
            good, conversation_id__in=conversation_ids, role=Message.Role.ASSISTANT
        )
        .distinct()
        .order_by("conversation_id", "id")
    )


def ended_replies(*, conversation_ids: list[int]) -> list[Message]:
    """Every reply that has ended, each with the message it answers, oldest first."""
    return list(
        Message.objects.filter(
            ENDED,
            conversation_id__in=conversation_ids,
            role=Message.Role.ASSISTANT,
            parent__isnull=False,
        ).order_by("conversation_id", "created_at", "id")
    )


def compare_choices(*, conversation_ids: list[int]) -> dict[int, tuple[str, int | None, set[int]]]:
    """The compares in these conversations, by the user message they answer: (the user's
    verdict, or "" before a choice; the chosen reply's message id; the compared replies'
    message ids). Two queries."""
    found: dict[int, tuple[str, int | None, set[int]]] = {}
    for prompt, message in CompareReply.objects.filter(
        group__conversation_id__in=conversation_ids
    ).values_list("group__prompt_id", "message_id"):
        found.setdefault(prompt, ("", None, set()))[2].add(message)
    for prompt, verdict, chosen in Preference.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("group__prompt_id", "verdict", "chosen__message_id"):
        if prompt in found:
            found[prompt] = (verdict, chosen, found[prompt][2])
    return found


def conversation_owners(*, conversation_ids: Iterable[int]) -> dict[int, int]:
    """Each conversation's owner's id, by conversation id."""
    return dict(
        Conversation.objects.filter(pk__in=set(conversation_ids)).values_list("pk", "owner_id")
    )


def messages_by_id(*, message_ids: Iterable[int]) -> dict[int, Message]:
    """These messages by id (missing ones left out)."""
    return Message.objects.in_bulk(list(message_ids))


def ratings_by_message(*, message_ids: list[int]) -> dict[int, str]:
    """The users' ratings ("up" or "down") of these replies, by message id."""
    return dict(
        Feedback.objects.filter(message_id__in=message_ids).values_list("message_id", "rating")
    )


def newest_corrections(*, message_ids: Iterable[int]) -> dict[int, Correction]:
    """The newest correction of each of these replies that has one, by message id."""
    newest: dict[int, Correction] = {}
    for correction in Correction.objects.filter(message_id__in=list(message_ids)).order_by(
        "created_at", "id"
    ):
        newest[correction.message_id] = correction
    return newest


def scores_in(*, conversation_ids: list[int]) -> QuerySet[Score]:
    return (
        Score.objects.filter(conversation_id__in=conversation_ids)
        .select_related("config", "author", "message")
        .order_by("conversation_id", "id")
    )


def notes_in(*, conversation_ids: list[int]) -> QuerySet[ReviewNote]:
    return (
        ReviewNote.objects.filter(conversation_id__in=conversation_ids)
        .select_related("author", "message")
        .order_by("conversation_id", "id")
    )


def corrections_in(*, conversation_ids: list[int]) -> QuerySet[Correction]:
    return (
        Correction.objects.filter(conversation_id__in=conversation_ids)
        .select_related("author", "message")
        .order_by("conversation_id", "id")
    )


def feedback_in(*, conversation_ids: list[int]) -> QuerySet[Feedback]:
    return (
        Feedback.objects.filter(conversation_id__in=conversation_ids)
        .select_related("message")
        .order_by("conversation_id", "id")
    )
