"""Search snippets: a few words of a matching message, bounded in time and size.

The full-text engines' own snippets pick the best window of a message, but SQLite FTS5's
snippet() costs the square of the matches in the message (a reply of 250,000 `$x$`
searched for "x": ten minutes), and either engine's may be a whole message when it is one
long word. They are asked only of messages up to FULL_SNIPPET_CHARS; of a longer one the
snippet is the text around its first occurrence of the query's first word, cut in SQL
(`instr`/`strpos`: linear, and nothing longer than EXCERPT_CHARS leaves the database).
"""

SNIPPET_MAX_CHARS = 300  # Whatever made it, a snippet is cut to this.
FULL_SNIPPET_CHARS = 2000  # Messages up to this long get the engine's own snippet.
EXCERPT_BEFORE = 60  # Characters kept before the word, in a longer message.
EXCERPT_CHARS = 200

# Parameters: the lowercased word, then the engine's query.
SQLITE = f"""
    SELECT f.rowid,
        CASE WHEN length(m.content) <= {FULL_SNIPPET_CHARS}
        THEN snippet(conversations_message_fts, 0, '', '', '…', 12)
        ELSE substr(m.content, max(1, instr(lower(m.content), %s) - {EXCERPT_BEFORE}),
                    {EXCERPT_CHARS})
        END,
        max(1, instr(lower(m.content), %s) - {EXCERPT_BEFORE}),
        length(m.content)
    FROM conversations_message_fts f JOIN conversations_message m ON m.id = f.rowid
    WHERE conversations_message_fts MATCH %s AND f.rowid IN ({{ids}})
"""  # noqa: S608 - only constants and integer ids are formatted in.
POSTGRESQL = f"""
    SELECT m.id,
        CASE WHEN char_length(m.content) <= {FULL_SNIPPET_CHARS}
        THEN ts_headline('simple', m.content, to_tsquery('simple', %s),
                         'MaxWords=16, MinWords=6, StartSel="", StopSel=""')
        ELSE substr(m.content, greatest(1, strpos(lower(m.content), %s) - {EXCERPT_BEFORE}),
                    {EXCERPT_CHARS})
        END,
        greatest(1, strpos(lower(m.content), %s) - {EXCERPT_BEFORE}),
        char_length(m.content)
    FROM conversations_message m WHERE m.id IN ({{ids}})
"""  # noqa: S608


def statement(vendor: str, *, ids: list[int], word: str, terms: str) -> tuple[str, list]:
    """The snippets query for these message ids, and its parameters."""
    ids_sql = ", ".join(str(int(message_id)) for message_id in ids)
    word = word.lower()
    if vendor == "sqlite":
        return SQLITE.format(ids=ids_sql), [word, word, terms]
    return POSTGRESQL.format(ids=ids_sql), [terms, word, word]


def shaped(text: str, *, start: int, length: int) -> str:
    """A snippet fit to show: an excerpt cut at words (…) where the message goes on,
    whitespace made single spaces, at most SNIPPET_MAX_CHARS."""
    if length > FULL_SNIPPET_CHARS:
        if start > 1:
            text = "…" + text.split(None, 1)[-1]  # Less the word the cut began in.
        if start + EXCERPT_CHARS <= length:
            text = text.rsplit(None, 1)[0] + "…"  # Less the word the cut ended in.
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_MAX_CHARS else text[: SNIPPET_MAX_CHARS - 1] + "…"
