"""Search of a user's conversations: titles and message text, with a snippet for each hit
(SQLite FTS5, or a PostgreSQL GIN full-text index; see search/index.py). Temporary chats
are never searched."""

import re

from django.db import connection

from ..models import Conversation, Message
from . import snippets

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
        owner_id=user_id, title__icontains=query, temporary=False
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
            WHERE conversations_message_fts MATCH %s AND c.owner_id = %s AND NOT c.temporary
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
              AND NOT c.temporary
            GROUP BY m.conversation_id ORDER BY newest DESC LIMIT %s
        """
    else:  # pragma: no cover - other databases fall back to a scan
        rows = (
            Message.objects.filter(
                conversation__owner_id=user_id,
                conversation__temporary=False,
                content__icontains=query,
            )
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
