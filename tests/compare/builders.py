"""Compares as the chat side leaves them: a user message, two to four sibling replies
(each with its model and a record of what was sent), their group, and the user's choice."""

from conversations.compare.models import CompareGroup, CompareReply, Preference
from conversations.models import Conversation
from conversations.personas.models import Persona
from tests import factories
from tests.review.builders import chat, reply


def compare(
    owner,
    models: list[str],
    *,
    verdict: str = "winner",
    chosen: int | None = 0,
    personas: list[Persona | None] | None = None,
    conversation: Conversation | None = None,
    texts: list[str] | None = None,
) -> Preference:
    """A compare of replies by these models under a new question, and the owner's choice:
    `chosen` is the index of the better reply (the one gone on from, for a tie)."""
    conversation = conversation or chat(owner)
    leaf = conversation.current_leaf
    question = factories.message_append(
        conversation=conversation, role="user", content="Which is better?", parent=leaf
    )
    group = CompareGroup.objects.create(conversation=conversation, prompt=question)
    personas = personas or [None] * len(models)
    texts = texts or [f"reply by {model} #{i}" for i, model in enumerate(models)]
    replies = []
    for slot, (model, persona, text) in enumerate(zip(models, personas, texts, strict=True)):
        message = reply(conversation, question, text, sent=[question.pk], model=model)
        replies.append(
            CompareReply.objects.create(
                group=group,
                message=message,
                slot=slot,
                model=model,
                persona=persona,
                persona_name=persona.name if persona else "",
            )
        )
    return Preference.objects.create(
        group=group,
        conversation=conversation,
        user=owner,
        verdict=verdict,
        chosen=replies[chosen] if chosen is not None else None,
    )
