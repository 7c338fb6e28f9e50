"""Builders shared by the review tests: conversations with branches, ratings, rights, and
queries counted (the reviewer, staff and boss accounts are fixtures in conftest.py)."""

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation, Message
from conversations.review import services as review
from conversations.review.models import ScoreConfig
from tests import factories


def chat(owner, *, turns: int = 1, title: str = "T", model: str = "m") -> Conversation:
    """A conversation of `turns` question-and-answer pairs, each reply with a request record."""
    conversation = services.conversation_create(owner=owner, persona=None, model=model, title=title)
    parent = None
    sent: list[int] = []
    for i in range(turns):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"question {i}", parent=parent
        )
        sent.append(parent.pk)
        parent = reply(conversation, parent, f"answer {i}", sent=list(sent))
        sent.append(parent.pk)
    conversation.refresh_from_db()
    return conversation


def reply(conversation, parent, text: str, *, sent: list[int], model: str = "m") -> Message:
    """A finished assistant reply under `parent`, recording what was sent for it."""
    message = factories.message_append(
        conversation=conversation,
        role="assistant",
        parent=parent,
        status=Message.Status.STREAMING,
        model=model,
        request={
            "persona": None,
            "system_prompt": "Be brief.",
            "model": model,
            "params": {},
            "tools": [],
            "tool_choice": None,
            "sent": sent,
            "left_out": [],
        },
    )
    return factories.message_finish(
        message_id=message.pk,
        status="complete",
        content=text,
        first_token_ms=120,
        duration_ms=400,
        prompt_tokens=10,
        completion_tokens=5,
    )


def rate(message: Message, rating: str, **extra) -> None:
    review.feedback_set(
        user=message.conversation.owner,
        message=message,
        rating=rating,
        categories=extra.get("categories", []),
        comment=extra.get("comment", ""),
    )


def grant(user, codename: str) -> None:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="review", codename=codename)
    )


def regenerated(owner) -> tuple[Conversation, Message, Message]:
    """A conversation whose only reply has two versions: (it, the older, the newer)."""
    conversation = chat(owner)
    old = conversation.current_leaf
    new = reply(conversation, old.parent, "again", sent=[old.parent_id])
    return conversation, old, new


def config(name: str) -> ScoreConfig:
    return ScoreConfig.objects.get(name=name)


def queries(call):
    """(what `call()` returned, how many queries it made)."""
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return result, len(ctx.captured_queries)
