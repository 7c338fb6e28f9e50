"""Reads: every query the app makes about conversations, personas and messages."""

import re
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .llm import ChatMessage, ToolCall
from .models import Conversation, Message, ModelInfo, Persona, UserSettings
from .search import snippets
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


def conversation_list(*, user: AbstractBaseUser, archived: bool = False) -> QuerySet[Conversation]:
    """The user's conversations (archived or not), pinned first, then most recently active."""
    return (
        Conversation.objects.filter(owner=user, archived=archived)
        .select_related("persona")
        .only(
            "id",
            "title",
            "model",
            "persona__id",
            "persona__model",
            "pinned",
            "archived",
            "updated_at",
        )
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


SEARCH_MAX_OFFSET = 1000  # Paging stops here: 50 pages of results is plenty to scroll.


def conversation_search(
    *, user_id: int, query: str, limit: int = 20, offset: int = 0
) -> list[dict]:
    """The user's conversations whose title or messages match, each with a snippet.

    Conversations whose title matches come first (most recently active first), then those
    with matching messages (newest match first); `offset` skips that many, for paging. A hit
    found in messages names its newest matching message. Message text is searched through
    the full-text index (SQLite FTS5, PostgreSQL GIN).
    """
    query = query.strip()
    offset = max(0, min(offset, SEARCH_MAX_OFFSET))
    if not query or limit < 1:
        return []
    wanted = offset + limit
    hits: dict[int, dict] = {}
    for conversation in Conversation.objects.filter(
        owner_id=user_id, title__icontains=query
    ).order_by("-updated_at", "-id")[:wanted]:
        hits[conversation.pk] = _hit(conversation, conversation.title, None)
    for conversation_id, message_id, snippet in _message_matches(user_id, query, wanted):
        hit = hits.get(conversation_id)
        if hit is None:
            hits[conversation_id] = {
                "conversation": conversation_id,
                "message": message_id,
                "snippet": snippet,
            }
        elif hit["message"] is None:
            # The title matched too: the newest matching message says more than the title.
            hit |= {"message": message_id, "snippet": snippet}
    page = list(hits.values())[offset:wanted]
    missing = [h for h in page if "title" not in h]
    titles = Conversation.objects.in_bulk([h["conversation"] for h in missing])
    for hit in missing:
        conversation = titles[hit["conversation"]]
        hit |= {
            "title": conversation.title,
            "archived": conversation.archived,
            "updated_at": conversation.updated_at.isoformat(),
        }
    return page


def _hit(conversation: Conversation, snippet: str, message_id: int | None) -> dict:
    return {
        "conversation": conversation.pk,
        "title": conversation.title,
        "archived": conversation.archived,
        "updated_at": conversation.updated_at.isoformat(),
        "message": message_id,
        "snippet": snippet,
    }


def _message_matches(user_id: int, query: str, limit: int) -> list[tuple[int, int, str]]:
    """(conversation id, message id, snippet) for the `limit` conversations whose messages
    most recently matched the words of `query`: their newest matching message each."""
    words = [w for w in re.findall(r"\w+", query)][:8]
    if not words:
        return []
    vendor = connection.vendor
    if vendor == "sqlite":
        # Each word as a quoted prefix term: user text never becomes FTS syntax.
        terms = " ".join(f'"{w}"*' for w in words)
        newest = """
            SELECT m.conversation_id, MAX(m.id) AS newest
            FROM conversations_message_fts f
            JOIN conversations_message m ON m.id = f.rowid
            JOIN conversations_conversation c ON c.id = m.conversation_id
            WHERE conversations_message_fts MATCH %s AND c.owner_id = %s
            GROUP BY m.conversation_id ORDER BY newest DESC LIMIT %s
        """
    elif vendor == "postgresql":
        # Words only (\w+), each as a prefix: user text never becomes tsquery syntax.
        terms = " & ".join(f"{w}:*" for w in words)
        newest = """
            SELECT m.conversation_id, MAX(m.id) AS newest
            FROM conversations_message m
            JOIN conversations_conversation c ON c.id = m.conversation_id
            WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', %s) AND c.owner_id = %s
            GROUP BY m.conversation_id ORDER BY newest DESC LIMIT %s
        """
    else:  # pragma: no cover - other databases fall back to a scan
        rows = (
            Message.objects.filter(conversation__owner_id=user_id, content__icontains=query)
            .order_by("-id")
            .values_list("conversation_id", "id", "content")[: limit * 5]
        )
        found: dict[int, tuple[int, int, str]] = {}
        for c, m, text in rows:
            found.setdefault(c, (c, m, snippets.shaped(text[:120], start=1, length=len(text))))
        return list(found.values())[:limit]
    with connection.cursor() as cursor:
        cursor.execute(newest, [terms, user_id, limit])
        latest = cursor.fetchall()
        if not latest:
            return []
        sql, params = snippets.statement(
            vendor, ids=[m for _, m in latest], word=words[0], terms=terms
        )
        cursor.execute(sql, params)
        text = {
            message_id: snippets.shaped(snippet or "", start=start, length=length)
            for message_id, snippet, start, length in cursor.fetchall()
        }
    return [(c, m, text.get(m, "")) for c, m in latest]


def persona_get(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """A persona the user may use (shared or their own), or None."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user), pk=persona_id).first()


def persona_list(*, user: AbstractBaseUser) -> QuerySet[Persona]:
    """Every persona the user may use: shared ones and their own."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user))


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


def persona_get_owned(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """One of the user's own personas (never a shared one), or None."""
    return Persona.objects.filter(owner=user, pk=persona_id).first()


def chat_message(message: Message) -> ChatMessage | None:
    """A saved message as a request carries it, or None when it says nothing.

    Reasoning is never sent back: only `content`, and tool calls and results.
    """
    if message.role == Message.Role.TOOL:
        return ChatMessage("tool", message.content, tool_call_id=message.tool_call_id)
    if message.role == Message.Role.ASSISTANT:
        if message.tool_calls:
            return ChatMessage("assistant", message.content, tool_calls=tool_calls_of(message))
        if not message.content:
            return None  # A reply that failed before its first token says nothing.
    return ChatMessage(message.role, message.content)


def tool_calls_of(message: Message) -> tuple[ToolCall, ...]:
    """The tool calls an assistant message made, as saved."""
    return tuple(
        ToolCall(id=call["id"], name=call["name"], arguments=call["arguments"])
        for call in message.tool_calls or []
    )


def system_message(persona: Persona | None, instructions: str = "") -> ChatMessage | None:
    """The first message: the persona's system prompt, then the user's custom instructions
    (a blank line between), if there is either."""
    parts = []
    if persona and persona.system_prompt.strip():
        parts.append(persona.system_prompt)  # As written: what was sent stays exact.
    if instructions.strip():
        parts.append(instructions.strip())
    return ChatMessage("system", "\n\n".join(parts)) if parts else None


def conversation_system_message(
    conversation: Conversation, instructions: str = ""
) -> ChatMessage | None:
    """The first message: the conversation's own system prompt, else its persona's; then
    the user's custom instructions (a blank line between), if there is any of them."""
    if not conversation.system_prompt.strip():
        return system_message(conversation.persona, instructions)
    parts = [conversation.system_prompt]  # As written: what was sent stays exact.
    if instructions.strip():
        parts.append(instructions.strip())
    return ChatMessage("system", "\n\n".join(parts))


def upstream_messages(
    *, conversation: Conversation, branch: list[Message], instructions: str = ""
) -> list[ChatMessage]:
    """The whole message list for a branch: system prompt, then every message that says something."""
    system = conversation_system_message(conversation, instructions)
    said = [m for m in (chat_message(message) for message in branch) if m is not None]
    return ([system] if system else []) + said


def conversation_export(*, conversation: Conversation) -> dict:
    """The export.json document: what the next turn would send, plus identity."""
    persona = conversation.persona
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "model": conversation_model(conversation)[0],
        "persona": {"id": persona.pk, "name": persona.name} if persona else None,
        "messages": [
            message.to_wire()
            for message in upstream_messages(
                conversation=conversation,
                branch=message_branch(conversation=conversation),
                instructions=custom_instructions(user_id=conversation.owner_id),
            )
        ],
    }


def conversation_tree(*, conversation: Conversation) -> list[Message]:
    """Every message of a conversation, every version, oldest first."""
    return list(conversation.messages.order_by("created_at", "id"))


def conversation_list_all(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """Every conversation of a user, archived ones included, oldest first, for export."""
    return Conversation.objects.filter(owner=user).select_related("persona").order_by("created_at")


def model_info_all(*, limit: int) -> dict[str, ModelInfo]:
    """Every model row staff may have edited (at most `limit`), by model id."""
    return {row.model_id: row for row in ModelInfo.objects.order_by("pk")[:limit]}


def model_info_get(*, model_id: str) -> ModelInfo | None:
    """Staff's row for a model, if there is one."""
    return ModelInfo.objects.filter(model_id=model_id).first()


def model_info_by_id(*, model_ids: list[str]) -> dict[str, ModelInfo]:
    """Staff's rows for these models, by model id."""
    return {row.model_id: row for row in ModelInfo.objects.filter(model_id__in=model_ids)}


def user_settings(*, user: AbstractBaseUser) -> UserSettings:
    """The user's settings; the defaults (not saved) when they have never changed any."""
    found = UserSettings.objects.filter(user_id=user.pk).first()
    return found or UserSettings(user_id=user.pk)


def custom_instructions(*, user_id: int) -> str:
    """What the user asked to add to every system prompt ("" for none)."""
    found = UserSettings.objects.filter(user_id=user_id).values_list(
        "custom_instructions", flat=True
    )
    return next(iter(found), "")


def default_persona(*, user: AbstractBaseUser, chosen: UserSettings) -> Persona | None:
    """The persona new chats start with, if the user may still use it."""
    if chosen.default_persona_id is None:
        return None
    return persona_get(user=user, persona_id=chosen.default_persona_id)


def conversations_imported_before(
    *, user: AbstractBaseUser, fingerprints: list[str]
) -> dict[str, Conversation]:
    """The user's imported conversations with these fingerprints, by fingerprint."""
    found = Conversation.objects.filter(
        owner=user, import_fingerprint__in=[f for f in fingerprints if f]
    ).only("id", "title", "import_fingerprint")
    return {conversation.import_fingerprint: conversation for conversation in found}


def user_exists() -> bool:
    """Whether any account exists yet (the first one becomes the administrator)."""
    return get_user_model().objects.exists()


def session_signs_in(*, session_key: str | None, user_id: int) -> bool:
    """Whether a session still signs in this user, as Django would judge it on a request.

    The session must exist unexpired and name the user; the user must exist and be active;
    and the password-derived hash the session keeps must match the user's current one (or
    one made with a SECRET_KEY_FALLBACKS key), so a new password ends older sessions.
    """
    if not session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return False
    stored = data.get(HASH_SESSION_KEY) or ""
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(stored, user._get_session_auth_hash(secret=secret))
        for secret in settings.SECRET_KEY_FALLBACKS
    )
