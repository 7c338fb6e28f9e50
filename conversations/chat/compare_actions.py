"""The user's choice among a compare's replies, from the chat: recorded, then every socket
on the conversation is told the names (`compare.chosen`) and shown the chosen branch."""

from channels.db import database_sync_to_async as db
from django.contrib.auth.models import AbstractBaseUser

from .. import selectors
from ..compare import selectors as compare_selectors
from ..compare import services as compare_services
from ..errors import TurnRefused
from . import broadcast, outbound, pages


def _choose(
    user: AbstractBaseUser,
    conversation_id: int,
    group_id: int,
    verdict: str,
    message_id: int | None,
    reason: str,
) -> dict:
    conversation = pages.owned_conversation(user, conversation_id)
    group = compare_selectors.group_in(conversation_id=conversation.pk, group_id=group_id)
    if group is None:
        raise TurnRefused("not_found", "That compare does not exist.")
    if selectors.conversation_turn_running(conversation=conversation):
        raise TurnRefused("busy", "Wait for every reply to finish before choosing.")
    try:
        preference = compare_services.preference_choose(
            user=user,
            conversation=conversation,
            group=group,
            verdict=verdict,
            message_id=message_id,
            reason=reason,
        )
    except compare_services.NotChosen as refused:
        raise TurnRefused("bad_request", str(refused)) from None
    return {
        "group": group.pk,
        "verdict": preference.verdict,
        "chosen": preference.chosen.message_id if preference.chosen else None,
        "reason": preference.reason,
        "replies": [
            {"message": r.message_id, "slot": r.slot, "label": r.label, "model": r.model}
            for r in group.replies.all()  # In column order (CompareReply's ordering).
        ],
    }


async def choose(
    *,
    user: AbstractBaseUser,
    conversation_id: int,
    group_id: int,
    verdict: str,
    message_id: int | None,
    reason: str,
) -> None:
    """Record the user's choice and go on from the chosen reply; the names are revealed."""
    chosen = await db(_choose)(user, conversation_id, group_id, verdict, message_id, reason)
    await broadcast.publish(conversation_id, outbound.compare_chosen(conversation_id, chosen))
    await broadcast.publish(
        conversation_id, await pages.state(user=user, conversation_id=conversation_id)
    )
