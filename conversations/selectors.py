"""Reads: every query the app makes about conversations, personas and messages."""

import contextlib
import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Conversation, Message
from .turns import sql as turn_sql

BRANCH_SQL = """
WITH RECURSIVE branch(id, depth) AS (
    SELECT id, 0 FROM conversations_message WHERE id = %s AND conversation_id = %s
    UNION ALL
    SELECT m.parent_id, b.depth + 1
    FROM conversations_message m JOIN branch b ON m.id = b.id
    WHERE m.parent_id IS NOT NULL AND b.depth + 1 < %s
)
SELECT m.* FROM conversations_message m JOIN branch b ON m.id = b.id ORDER BY b.depth DESC
"""
# Deeper than any real conversation: "the whole branch".
WHOLE_BRANCH = 10_000_000


def conversation_get(*, user: AbstractBaseUser, conversation_id: int) -> Conversation | None:
    """The user's conversation with this id, or None (also when it is someone else's)."""
    return (
        Conversation.objects.select_related("persona")
        .filter(owner=user, pk=conversation_id)
        .first()
    )


def conversation_list(
    *,
    user: AbstractBaseUser,
    archived: bool = False,
    project_id: int | None = None,
    outside_projects: bool = False,
) -> QuerySet[Conversation]:
    """The user's conversations (archived or not), pinned first, then most recently active;
    only those in project `project_id` if given, or only those in none (`outside_projects`);
    never a temporary chat (it is not listed)."""
    found = Conversation.objects.filter(owner=user, archived=archived, temporary=False)
    if project_id is not None:
        found = found.filter(project_id=project_id)
    elif outside_projects:
        found = found.filter(project__isnull=True)
    return (
        found.select_related("persona")
        .only(
            "id",
            "title",
            "model",
            "persona__id",
            "persona__model",
            "project_id",
            "pinned",
            "archived",
            "updated_at",
            "temporary",
        )
        .prefetch_related("tags")  # Each item's tag names: one query for the whole list.
        .order_by("-pinned", "-updated_at")
    )


def conversation_model(conversation: Conversation) -> tuple[str, str]:
    """The model a conversation's next reply uses, and whose choice it is.

    The user's choice for this conversation wins, then its persona's model, then the
    default: ("model id", "conversation" | "persona" | "default").
    """
    if conversation.model:
        return conversation.model, "conversation"
    persona = conversation.persona
    if persona is not None and persona.model:
        return persona.model, "persona"
    return settings.LLM_DEFAULT_MODEL, "default"


def conversation_exists(*, user: AbstractBaseUser, conversation_id: int) -> bool:
    """Whether the user has a conversation with this id."""
    return Conversation.objects.filter(owner=user, pk=conversation_id).exists()


def conversation_turn_running(*, conversation: Conversation) -> bool:
    """Whether a turn holds the conversation's lease (in any server process)."""
    return bool(conversation.turn_owner) and (
        conversation.turn_expires_at is None or conversation.turn_expires_at > timezone.now()
    )


def conversation_get_by_id(*, conversation_id: int) -> Conversation | None:
    """A conversation by id alone, for work already scoped to its owner (a running turn)."""
    return Conversation.objects.filter(pk=conversation_id).first()


def message_branch(
    *, conversation: Conversation, leaf_id: int | None = None, limit: int = WHOLE_BRANCH
) -> list[Message]:
    """The messages from the root down to `leaf_id` (default: the active leaf), in one query.

    With `limit`, only the last `limit` messages of the branch, ending at the leaf.
    """
    leaf_id = leaf_id or conversation.current_leaf_id
    if leaf_id is None:
        return []
    return turn_sql.objects(Message, BRANCH_SQL, [leaf_id, conversation.pk, limit])


def message_siblings(
    *, conversation: Conversation, messages: list[Message]
) -> dict[int, list[int]]:
    """For each message, the ids of all versions at its place (itself included), oldest first."""
    parents = {m.parent_id for m in messages}
    rows = Message.objects.filter(conversation=conversation).filter(
        Q(parent_id__in=[p for p in parents if p is not None])
        | (Q(parent__isnull=True) if None in parents else Q(pk__in=[]))
    )
    by_parent: dict[int | None, list[int]] = {}
    for pk, parent_id in rows.order_by("created_at", "id").values_list("pk", "parent_id"):
        by_parent.setdefault(parent_id, []).append(pk)
    return {m.pk: by_parent.get(m.parent_id, [m.pk]) for m in messages}


def message_latest_leaf(*, conversation: Conversation, message_id: int) -> int:
    """The leaf reached from a message by always taking the child shown most recently."""
    children: dict[int, int] = {}
    for pk, parent_id in (
        Message.objects.filter(conversation=conversation, parent__isnull=False)
        .order_by("selected_at", "id")
        .values_list("pk", "parent_id")
    ):
        children[parent_id] = pk  # The most recently shown (or newest) child wins.
    leaf = message_id
    while leaf in children:
        leaf = children[leaf]
    return leaf


def message_get(
    *, conversation: Conversation, message_id: int, role: str | None = None
) -> Message | None:
    """One message of a conversation (of this role, if given), with its parent, or None."""
    found = Message.objects.filter(conversation=conversation, pk=message_id)
    if role:
        found = found.filter(role=role)
    return found.select_related("parent").first()


def message_get_by_client_id(*, conversation: Conversation, client_id: str) -> Message | None:
    """The message this client already sent with this id, if any."""
    return Message.objects.filter(conversation=conversation, client_id=client_id).first()


def message_get_root_by_client_id(*, user: AbstractBaseUser, client_id: str) -> Message | None:
    """The first message of a conversation the client created with this id, if any."""
    return (
        Message.objects.select_related("conversation")
        .filter(conversation__owner=user, client_id=client_id, parent__isnull=True)
        .first()
    )


BRANCH_SIZES_SQL = """
WITH RECURSIVE branch(id, depth) AS (
    SELECT id, 0 FROM conversations_message WHERE id = %s AND conversation_id = %s
    UNION ALL
    SELECT m.parent_id, b.depth + 1
    FROM conversations_message m JOIN branch b ON m.id = b.id
    WHERE m.parent_id IS NOT NULL AND b.depth + 1 < %s
)
SELECT m.id, LENGTH(m.content) + LENGTH(m.reasoning)
FROM conversations_message m JOIN branch b ON m.id = b.id ORDER BY b.depth
"""


def newest_that_fit(
    *, conversation: Conversation, leaf_id: int, limit: int, max_chars: int
) -> tuple[list[Message], bool]:
    """The newest messages of the branch ending at `leaf_id`, root first: at most `limit`,
    and no more than fill `max_chars` of text (content and reasoning) and the first one
    past it (the page decides on what they show, which is more than their text); the
    newest always. With whether the branch has messages above them. Two queries."""
    params = [leaf_id, conversation.pk, limit + 1]
    with contextlib.closing(turn_sql.read(None, BRANCH_SIZES_SQL, params)) as cursor:
        sizes = cursor.fetchall()  # Newest first.
    chosen: list[int] = []
    room = max_chars
    for pk, size in sizes[:limit]:
        if room < 0:
            break
        chosen.append(pk)
        room -= size
    loaded = Message.objects.filter(conversation=conversation).in_bulk(chosen)
    messages = [loaded[pk] for pk in reversed(chosen) if pk in loaded]
    return messages, len(sizes) > len(chosen)


def within_days(field: str, *, since: dt.date | None, until: dt.date | None) -> Q:
    """`field` from the start of UTC day `since` to the end of UTC day `until` (a None
    bound is no bound): the date filters of staff's pages and the leaderboard."""
    within = Q()
    if since is not None:
        within &= Q(**{f"{field}__gte": dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)})
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        within &= Q(**{f"{field}__lt": end})
    return within
