"""Full-text search over message text: SQLite FTS5, or a PostgreSQL GIN index.

conversations.search.index restores the SQLite triggers after later migrations
rebuild the message table.
"""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE conversations_message_fts USING fts5(
        content, content='conversations_message', content_rowid='id', tokenize='unicode61'
    )""",
    """CREATE TRIGGER conversations_message_fts_ai AFTER INSERT ON conversations_message BEGIN
        INSERT INTO conversations_message_fts(rowid, content) VALUES (new.id, new.content);
    END""",
    """CREATE TRIGGER conversations_message_fts_ad AFTER DELETE ON conversations_message BEGIN
        INSERT INTO conversations_message_fts(conversations_message_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
    END""",
    """CREATE TRIGGER conversations_message_fts_au AFTER UPDATE OF content ON conversations_message BEGIN
        INSERT INTO conversations_message_fts(conversations_message_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
        INSERT INTO conversations_message_fts(rowid, content) VALUES (new.id, new.content);
    END""",
    "INSERT INTO conversations_message_fts(conversations_message_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS conversations_message_fts_ai",
    "DROP TRIGGER IF EXISTS conversations_message_fts_ad",
    "DROP TRIGGER IF EXISTS conversations_message_fts_au",
    "DROP TABLE IF EXISTS conversations_message_fts",
]
POSTGRES = [
    "CREATE INDEX conversations_message_fts ON conversations_message "
    "USING GIN (to_tsvector('simple', content))"
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS conversations_message_fts"]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("conversations", "0004_organise_and_timing")]
    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
