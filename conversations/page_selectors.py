"""Reads for a page of a branch that must fit a byte budget: which of the newest messages
fit is decided on their sizes as the database counts them, and only those are loaded.

Without this, a page of the newest CHAT_PAGE_SIZE messages would load all of them whole
to show the one or two that fit: a hundred replies of a megabyte each, read for one.
"""

import contextlib

from .models import Conversation, Message
from .turns import sql as turn_sql

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
