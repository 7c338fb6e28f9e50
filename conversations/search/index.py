"""The full-text index over message text, kept whole across migrations.

On SQLite, Django rebuilds a table to alter it, and dropping the old table drops its
triggers: after every `migrate` this puts back whatever is missing and, if anything
was, rebuilds the index from the messages.
"""

import logging

logger = logging.getLogger(__name__)

SQLITE_OBJECTS = {
    "conversations_message_fts": """CREATE VIRTUAL TABLE IF NOT EXISTS conversations_message_fts
        USING fts5(content, content='conversations_message', content_rowid='id', tokenize='unicode61')""",
    "conversations_message_fts_ai": """CREATE TRIGGER IF NOT EXISTS conversations_message_fts_ai
        AFTER INSERT ON conversations_message BEGIN
            INSERT INTO conversations_message_fts(rowid, content) VALUES (new.id, new.content);
        END""",
    "conversations_message_fts_ad": """CREATE TRIGGER IF NOT EXISTS conversations_message_fts_ad
        AFTER DELETE ON conversations_message BEGIN
            INSERT INTO conversations_message_fts(conversations_message_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
        END""",
    "conversations_message_fts_au": """CREATE TRIGGER IF NOT EXISTS conversations_message_fts_au
        AFTER UPDATE OF content ON conversations_message BEGIN
            INSERT INTO conversations_message_fts(conversations_message_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
            INSERT INTO conversations_message_fts(rowid, content) VALUES (new.id, new.content);
        END""",
}
POSTGRES_INDEX = (
    "CREATE INDEX IF NOT EXISTS conversations_message_fts ON conversations_message "
    "USING GIN (to_tsvector('simple', content))"
)


def ensure(connection) -> bool:
    """Create whatever part of the index is missing; return whether anything was."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE 'conversations_message_fts%'"
            )
            present = {row[0] for row in cursor.fetchall()}
            missing = [name for name in SQLITE_OBJECTS if name not in present]
            for name in missing:
                cursor.execute(SQLITE_OBJECTS[name])
            if missing:
                cursor.execute(
                    "INSERT INTO conversations_message_fts(conversations_message_fts) VALUES ('rebuild')"
                )
                logger.info("Search index: restored %s and rebuilt it", ", ".join(missing))
            return bool(missing)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'conversations_message_fts'")
            if cursor.fetchone() is None:
                cursor.execute(POSTGRES_INDEX)
                return True
    return False


def on_post_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate hook: keep the index whole after any migration."""
    from django.db import connections

    ensure(connections[using])
