"""Importing long conversations, against a fresh SQLite file.

Target (issue 9: safe to put in front of a team): importing is linear in the number of
messages, and each conversation is saved in one short transaction, so the write lock is
never held for long. Before, a 30,000-message chain took 65 s (2,000: 0.8 s; 10,000:
7.6 s), all of it inside one transaction holding SQLite's write lock.

Prints, for chains of 2,000, 10,000 and 30,000 messages: the time to check the file,
to prepare its rows (before any transaction), the rest, which is the transaction (the
time the write lock is held), and the whole import per 1,000 messages, which stays about flat when the
import is linear.

Run: make bench
"""

import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from fresh_django import timed  # noqa: F401 - sets Django up on a fresh SQLite file

from conversations.portability import importing
from conversations.portability import services as portability_services

SIZES = (2_000, 10_000, 30_000)
RUNS = 3  # Medians of three: this machine is shared and noisy.
START = datetime(2024, 1, 1, tzinfo=UTC)
TEXT = "the quick brown fox jumps over the lazy dog while planning a garden of tomatoes"


def chain(size: int) -> bytes:
    """Our export format: one conversation, `size` messages, each the child of the last."""
    tree = [
        {
            "id": i,
            "parent": i - 1 if i else None,
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"Message {i}: {TEXT}",
            "created_at": (START + timedelta(seconds=i)).isoformat(),
        }
        for i in range(size)
    ]
    document = {"format": "chatsite.conversation", "title": f"Chain of {size}", "tree": tree}
    return json.dumps(document).encode()


def main() -> None:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench")
    print(
        "import a chain of N messages (SQLite):"
        " check file | prepare rows | transaction | whole import per 1,000"
    )
    for size in SIZES:
        data = chain(size)
        runs = [import_once(user, data) for _ in range(RUNS)]
        check, prepare, whole = (statistics.median(run[i] for run in runs) for i in range(3))
        transaction = whole - check - prepare
        print(
            f"  {size:>6,} messages ({len(data) / 1e6:4.1f} MB): {check:5.2f} s | "
            f"{prepare:5.2f} s | {transaction:5.2f} s | {whole / size * 1_000_000:4.0f} ms"
        )


def import_once(user, data: bytes) -> tuple[float, float, float]:
    """Seconds to check the file, to prepare its rows, and for the whole import."""
    start = time.perf_counter()
    (conversation,) = importing.read_file(data)
    checked = time.perf_counter()
    # The rows conversation_import prepares before its transaction, timed alone.
    now = timezone.now()
    [portability_services._message_row(message, now) for message in conversation.messages]
    prepared = time.perf_counter()
    portability_services.conversation_import(owner=user, conversation=conversation, persona=None)
    saved = time.perf_counter()
    # The import itself prepares the rows again: count that once.
    return checked - start, prepared - checked, saved - start - (prepared - checked)


if __name__ == "__main__":
    main()
