"""Reads of compares: what each compared reply is, as frames show it, and the compare a
conversation's page still waits on."""

from django.db.models import Count

from ..models import Message
from .models import CompareGroup, CompareReply, CompareSettings, Preference

SLOT_NAMES = "ABCD"


def blind_by_default() -> bool:
    """Whether a compare hides its models' names unless the user says otherwise."""
    return bool(
        CompareSettings.objects.filter(pk=1).values_list("blind_by_default", flat=True).first()
    )


def reply_info(reply: CompareReply, *, count: int, preference: Preference | None) -> dict:
    """A compared reply as frames carry it (`compare`): while a blind compare has no choice,
    its label is "Model A"… and nothing else names it."""
    revealed = preference is not None or not reply.group.blind
    return {
        "group": reply.group_id,
        "slot": reply.slot,
        "count": count,
        "label": reply.label if revealed else f"Model {SLOT_NAMES[reply.slot]}",
        "blind": reply.group.blind,
        "revealed": revealed,
        "verdict": preference.verdict if preference else None,
        "chosen": preference is not None and preference.chosen_id == reply.pk,
    }


def _preference(group: CompareGroup) -> Preference | None:
    try:
        return group.preference
    except Preference.DoesNotExist:
        return None


def with_compare_info(messages: list[Message]) -> None:
    """Give each compared reply among `messages` its `compare_info`: one query."""
    ids = [m.pk for m in messages if m.role == Message.Role.ASSISTANT]
    if not ids:
        return
    rows = (
        CompareReply.objects.filter(message_id__in=ids)
        .select_related("group", "group__preference")
        .annotate(count=Count("group__replies"))
    )
    by_message = {row.message_id: row for row in rows}
    for message in messages:
        row = by_message.get(message.pk)
        if row is not None:
            message.compare_info = reply_info(
                row, count=row.count, preference=_preference(row.group)
            )


def open_compare(*, branch: list[Message]) -> tuple[CompareGroup, list[Message]] | None:
    """The compare answering the branch's newest user message while it has no choice yet,
    and its replies in column order (each with `compare_info`); None otherwise."""
    prompt = next((m for m in reversed(branch) if m.role == Message.Role.USER), None)
    if prompt is None:
        return None
    group = (
        CompareGroup.objects.filter(prompt_id=prompt.pk, preference__isnull=True)
        .only("id", "blind", "prompt_id", "conversation_id")
        .first()
    )
    if group is None:
        return None
    replies = list(
        CompareReply.objects.filter(group=group).select_related("message").order_by("slot")
    )
    messages = []
    for row in replies:
        row.group = group
        message = row.message
        message.compare_info = reply_info(row, count=len(replies), preference=None)
        messages.append(message)
    return group, messages


def group_in(*, conversation_id: int, group_id: int) -> CompareGroup | None:
    """A compare of this conversation, with its replies; None also when it is another's."""
    return (
        CompareGroup.objects.filter(conversation_id=conversation_id, pk=group_id)
        .prefetch_related("replies")
        .first()
    )
