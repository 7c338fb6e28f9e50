"""Search of a user's conversations: titles and message text, with a snippet for each hit
(SQLite FTS5, or a PostgreSQL GIN full-text index; see search/index.py). Temporary chats
are never searched."""

import re

from django.db import connection

from ..models import Conversation, Message
from ..tags import query as tag_query
from ..tags import selectors as tag_selectors
from . import snippets

SEARCH_MAX_OFFSET = 1000  # Paging stops here: 50 pages of results is plenty to scroll.


def conversation_search(
    *, user_id: int, query: str, limit: int = 20, offset: int = 0, project_id: int | None = None
) -> list[dict]:
    """The user's conversations whose title or messages match, each with a snippet.

    Conversations whose title matches come first (most recently active first), then those
    with matching messages (newest match first); `offset` skips that many, for paging. A hit
    found in messages names its newest matching message. Message text is searched through
    the full-text index (SQLite FTS5, PostgreSQL GIN). `project_id` keeps the search to
    the conversations in that project (the caller checked it is the user's).

    `tag:name` (or `tag:"two words"`) keeps to conversations with that tag of the user's
    own (tags/query.py); alone, it lists them all, most recently active first.
    """
    tag_names, query = tag_query.split(query.strip())
    offset = max(0, min(offset, SEARCH_MAX_OFFSET))
    if not (query or tag_names) or limit < 1:
        return []
    tag_ids: list[int] = []
    if tag_names:
        tags = tag_selectors.tags_named(user_id=user_id, raw_names=tag_names)
        if tags is None:
            return []  # A tag the user does not have (theirs or no one's): nothing.
        tag_ids = [t.pk for t in tags]
    wanted = offset + limit
    hits: dict[int, dict] = {}
    titled = Conversation.objects.filter(owner_id=user_id, temporary=False)
    if project_id is not None:
        titled = titled.filter(project_id=project_id)
    for tag_id in tag_ids:
        titled = titled.filter(tags=tag_id)
    if query:
        titled = titled.filter(title__icontains=query)
    for conversation in titled.order_by("-updated_at", "-id")[:wanted]:
        hits[conversation.pk] = _hit(conversation, conversation.title, None)
    matches = _message_matches(user_id, query, wanted, tag_ids, project_id) if query else []
    for conversation_id, message_id, snippet in matches:
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


def _message_matches(
    user_id: int, query: str, limit: int, tag_ids: list[int], project_id: int | None = None
) -> list[tuple[int, int, str]]:
    """(conversation id, message id, snippet) for the `limit` conversations whose messages
    most recently matched the words of `query`: their newest matching message each; with
    `tag_ids`, only among conversations with every one of those tags; with `project_id`,
    only in that project."""
    words = [w for w in re.findall(r"\w+", query)][:8]
    if not words:
        return []
    vendor = connection.vendor
    scope = [project_id] if project_id is not None else []
    # Placeholders only, one per scope value: no user text goes into the SQL.
    in_project = " AND c.project_id = %s" if scope else ""
    tagged = in_project + "".join(
        " AND c.id IN (SELECT conversation_id FROM conversations_tag_conversations"
        " WHERE tag_id = %s)"
        for _ in tag_ids
    )
    if vendor == "sqlite":
        # Each word as a quoted prefix term: user text never becomes FTS syntax.
        terms = " ".join(f'"{w}"*' for w in words)
        newest = """
            SELECT m.conversation_id, MAX(m.id) AS newest
            FROM conversations_message_fts f
            JOIN conversations_message m ON m.id = f.rowid
            JOIN conversations_conversation c ON c.id = m.conversation_id
            WHERE conversations_message_fts MATCH %s AND c.owner_id = %s AND NOT c.temporary{tagged}
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
              AND NOT c.temporary{tagged}
            GROUP BY m.conversation_id ORDER BY newest DESC LIMIT %s
        """
    else:  # pragma: no cover - other databases fall back to a scan
        scanned = Message.objects.filter(
            conversation__owner_id=user_id, conversation__temporary=False, content__icontains=query
        )
        if project_id is not None:
            scanned = scanned.filter(conversation__project_id=project_id)
        for tag_id in tag_ids:
            scanned = scanned.filter(conversation__tags=tag_id)
        rows = scanned.order_by("-id").values_list("conversation_id", "id", "content")[: limit * 5]
        found: dict[int, tuple[int, int, str]] = {}
        for c, m, text in rows:
            found.setdefault(c, (c, m, snippets.shaped(text[:120], start=1, length=len(text))))
        return list(found.values())[:limit]
    newest = newest.format(tagged=tagged)  # Placeholders only: no user text.
    with connection.cursor() as cursor:
        cursor.execute(newest, [terms, user_id, *scope, *tag_ids, limit])
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
