"""The review dashboard at 1,000,000 messages, against a throwaway SQLite file.

Target (issue 11): the dashboard answers in at most 1 s with at most 20 queries at a
million messages. It reads daily rollups kept as messages are saved; here the million
messages are written with raw SQL (fast, but past the hooks that count them), so the
rollups are then rebuilt from them with `stats.rebuild()`, the same code the 0003
migration runs on an existing install (timed too: it is a one-off).

All million messages fall within the dashboard's 30 days, the worst case for it.

Run: make bench
"""

import statistics
import sys
import time
import warnings

from fresh_django import timed  # noqa: F401 - sets Django up on a fresh SQLite file

warnings.filterwarnings("ignore", "No directory at")  # No collectstatic for a bench.

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from conversations.review import stats  # noqa: E402

MESSAGES = 1_000_000
CONVERSATIONS = 100_000
USERS = 2_000
TARGET_MS, TARGET_QUERIES = 1000, 20


def build() -> None:
    """Users, conversations and a million messages over 30 days: a few SQL statements.

    Only this script's own numbers go into the SQL text.
    """
    with connection.cursor() as c:
        c.execute(
            f"""WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {USERS})
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', 0, 'user' || i, '', '', '', 0, 1, datetime('now', '-60 days') FROM seq"""
        )
        c.execute("SELECT MIN(id), MAX(id) FROM conversations_persona")
        first_persona, last_persona = c.fetchone()
        personas = last_persona - first_persona + 1
        c.execute("SELECT MIN(id) FROM auth_user")
        first_user = c.fetchone()[0]
        c.execute(
            f"""WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {CONVERSATIONS - 1})
            INSERT INTO conversations_conversation (owner_id, title, title_source, pinned, archived,
                persona_id, model, created_at, updated_at, turn_owner, system_prompt,
                import_fingerprint)
            SELECT {first_user} + i % {USERS}, 'Chat ' || i, 'first_message', 0, 0,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE {first_persona} + i % {personas} END,
                   'model-' || (i % 7), datetime('now', '-' || (i % 30) || ' days'), datetime('now'), '', '', ''
            FROM seq"""
        )
        c.execute("SELECT MIN(id) FROM conversations_conversation")
        first_conversation = c.fetchone()[0]
        per = MESSAGES // CONVERSATIONS
        c.execute(
            f"""WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {MESSAGES - 1})
            INSERT INTO conversations_message (conversation_id, role, content, reasoning, status,
                finish_reason, error, error_detail, model, prompt_tokens, completion_tokens,
                tool_call_id, tool_name, request, first_token_ms, duration_ms, usage_estimated,
                created_at, updated_at, selected_at)
            SELECT {first_conversation} + i / {per},
                   CASE i % 2 WHEN 0 THEN 'user' ELSE 'assistant' END,
                   'message ' || i, '',
                   CASE WHEN i % 2 = 1 AND i % 97 = 1 THEN 'error' ELSE 'complete' END,
                   '', '', '',
                   CASE i % 2 WHEN 0 THEN '' ELSE 'model-' || ((i / {per}) % 7) END,
                   CASE i % 2 WHEN 0 THEN NULL ELSE 200 + i % 900 END,
                   CASE i % 2 WHEN 0 THEN NULL ELSE 50 + i % 400 END,
                   '', '',
                   CASE i % 2 WHEN 0 THEN NULL ELSE '{{"sent": []}}' END,
                   CASE i % 2 WHEN 0 THEN NULL ELSE 80 + (i * 7919) % 4000 END,
                   NULL, 0,
                   strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((i / {per}) % 30) || ' days',
                            '-' || (i % 80000) || ' seconds'),
                   datetime('now'), datetime('now')
            FROM seq"""
        )
        c.execute(
            """INSERT INTO review_feedback (conversation_id, message_id, user_id, rating,
                    categories, comment, created_at, updated_at)
            SELECT m.conversation_id, m.id, c.owner_id,
                   CASE WHEN m.id % 5 = 0 THEN 'down' ELSE 'up' END, '[]', '', m.created_at, m.created_at
            FROM conversations_message m JOIN conversations_conversation c ON c.id = m.conversation_id
            WHERE m.role = 'assistant' AND m.id % 50 = 1"""
        )


def main() -> None:
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    build()
    built = time.perf_counter() - start
    count = connection.cursor().execute("SELECT COUNT(*) FROM conversations_message").fetchone()[0]
    print(f"built {count:,} messages in {built:.1f} s")

    start = time.perf_counter()
    stats.rebuild()
    print(f"rebuilt the daily rollups from them in {time.perf_counter() - start:.1f} s (one-off)")

    admin = get_user_model().objects.create_superuser(username="bench-admin", password=None)
    client = Client(HTTP_HOST="localhost")  # An allowed host (only pytest adds "testserver").
    client.force_login(admin)
    assert client.get("/admin/review/dashboard/").status_code == 200  # Warm up.
    samples, queries = [], 0
    for _ in range(10):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get("/admin/review/dashboard/")
            samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        queries = len(ctx.captured_queries)
    median, worst = statistics.median(samples), max(samples)
    ok = median <= TARGET_MS and queries <= TARGET_QUERIES
    print(
        f"dashboard (30 days, {count:,} messages): median {median:.0f} ms, worst {worst:.0f} ms, "
        f"{queries} queries (target: <= {TARGET_MS} ms, <= {TARGET_QUERIES} queries): "
        + ("within target" if ok else "OVER TARGET")
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
