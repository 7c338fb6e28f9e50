"""Builders for the deletion tests: conversations of a given age, registered cleanups."""

from datetime import timedelta

from django.utils import timezone

from conversations import services
from conversations.models import Conversation
from tests import factories


def aged(owner, days: float, *, messages: int = 2, title: str = "T") -> Conversation:
    """A conversation of `messages` messages, last touched `days` days ago."""
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title=title)
    parent = None
    for i in range(messages):
        role = "user" if i % 2 == 0 else "assistant"
        parent = factories.message_append(
            conversation=conversation, role=role, content=f"secret {i}", parent=parent
        )
    touched = timezone.now() - timedelta(days=days)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=touched)
    conversation.refresh_from_db()
    return conversation


def remaining(*conversations: Conversation) -> set[int]:
    """Which of these conversations still exist."""
    return set(
        Conversation.objects.filter(pk__in=[c.pk for c in conversations]).values_list(
            "pk", flat=True
        )
    )
