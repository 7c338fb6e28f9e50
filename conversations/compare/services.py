"""Writes of compares: the rows a compare's start adds beside its replies, and the user's
choice among them (a preference record, and the branch the conversation goes on from)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .. import selectors as conversation_selectors
from .. import services as conversation_services
from ..models import Conversation, Message
from ..personas.models import Persona
from .models import CompareGroup, CompareReply, Preference


class NotChosen(ValueError):
    """A choice that does not fit the compare (a reply that is not one of its own)."""


@dataclass(frozen=True)
class Compared:
    """One reply of a compare being started: its placeholder, model and persona."""

    reply: Message
    model: str
    persona: Persona | None


def compare_create(
    *, conversation: Conversation, prompt: Message, replies: list[Compared], blind: bool
) -> list[CompareReply]:
    """The compare of these replies to `prompt`, in column order (inside the start's
    transaction: the replies and their compare are saved together or not at all); its
    rows, each with its group."""
    group = CompareGroup.objects.create(conversation=conversation, prompt=prompt, blind=blind)
    return CompareReply.objects.bulk_create(
        CompareReply(
            group=group,
            message=item.reply,
            slot=slot,
            model=item.model,
            persona=item.persona,
            persona_name=item.persona.name if item.persona else "",
        )
        for slot, item in enumerate(replies)
    )


def preference_choose(
    *,
    user: AbstractBaseUser,
    conversation: Conversation,
    group: CompareGroup,
    verdict: str,
    message_id: int | None,
    reason: str,
) -> Preference:
    """Record the user's choice (again: it replaces the last), and go on from the chosen
    reply: the winner, or for a tie or "all bad" the one named (else the first column's)."""
    replies = {reply.message_id: reply for reply in group.replies.all()}
    if message_id is None:
        if verdict == Preference.Verdict.WINNER:
            raise NotChosen("Say which reply is better.")
        chosen = min(replies.values(), key=lambda reply: reply.slot)
    elif message_id in replies:
        chosen = replies[message_id]
    else:
        raise NotChosen("That reply is not one of this compare's.")
    with transaction.atomic():
        preference, _ = Preference.objects.update_or_create(
            group=group,
            defaults={
                "conversation": conversation,
                "user": user,
                "verdict": verdict,
                "chosen": chosen,
                "reason": reason.strip(),
                "blind": group.blind,
            },
        )
        leaf = conversation_selectors.message_latest_leaf(
            conversation=conversation, message_id=chosen.message_id
        )
        conversation_services.conversation_switch(conversation=conversation, leaf_id=leaf)
    return preference
