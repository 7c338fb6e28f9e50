"""Retention in a deployment: two real server processes, each with its runner, and cron's
`manage.py purge` beside them, on one database (PostgreSQL with Redis in the suite's
second run). Exactly the conversations past their rule go, each once, and none the review
queue holds until its item is resolved."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.deployment.servers import database_env, query
from tests.live_server import ROOT, start_server

pytestmark = pytest.mark.django_db(transaction=True)  # The servers' rows go afterwards.

# Rows made in one transaction, so no run sees half of them: users under each kind of rule,
# conversations on both sides of each rule, and some past it held by the review queue.
SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from conversations.accounts.services import user_settings_update
from conversations.deletion.models import RetentionRule
from conversations.models import Message
from conversations.review import services as review
from conversations.review.models import QueueItem
from tests.deletion.support import aged

User = get_user_model()
with transaction.atomic():
    site = User.objects.create_user(username="site", password="pw-site-12345")
    member = User.objects.create_user(username="member", password="pw-member-12345")
    group = Group.objects.create(name="Short")
    RetentionRule.objects.create(group=group, days=7)
    member.groups.add(group)
    own = User.objects.create_user(username="own", password="pw-own-12345")
    user_settings_update(user=own, retention_days=1)
    staff = User.objects.create_user(username="staff", password="pw-staff-12345", is_staff=True)
    gone = (
        [aged(site, 31 + i, messages=1 + i % 3) for i in range(20)]
        + [aged(member, 8 + i, messages=2) for i in range(10)]
        + [aged(own, 2 + i, messages=3) for i in range(10)]
    )
    kept = [aged(site, 29), aged(member, 6), aged(own, 0.5), aged(staff, 400)]
    kept[-1].turn_owner = "a-process"  # A turn runs in it.
    kept[-1].save(update_fields=["turn_owner"])
    held = [aged(site, 60 + i) for i in range(4)]
    for conversation in held:
        review.queue_add(actor=staff, conversation=conversation)
    review.queue_set_status(
        actor=staff, items=[QueueItem.objects.get(conversation=held[0])], status="in_review"
    )
print(json.dumps({
    "gone": [c.pk for c in gone],
    "kept": [c.pk for c in kept],
    "held": [c.pk for c in held],
    "gone_messages": Message.objects.filter(conversation__in=gone).count(),
}))
"""

RESOLVE = """
from conversations.review import services as review
from conversations.review.models import QueueItem
from django.contrib.auth import get_user_model
staff = get_user_model().objects.get(username="staff")
items = list(QueueItem.objects.filter(status="open"))
review.queue_set_status(actor=staff, items=items, status="in_review")
review.queue_set_status(actor=staff, items=list(QueueItem.objects.all()), status="resolved")
"""

RUN_LINE = re.compile(r"Deletion run by (\S+) finished in \d+ batches \(retention: ([^)]*)\)")


def shell(env: dict, code: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def wait_for(check: Callable[[], object], *, timeout: float = 60, what: str = "") -> object:
    """Poll `check` until it returns something true, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.1)
    return result


def existing(env: dict, ids: list[int]) -> set[int]:
    found = query(env, "SELECT id FROM conversations_conversation")
    return {row[0] for row in found} & set(ids)


def audited(env: dict) -> tuple[int, int, int]:
    """The retention entries of the audit log: (entries, conversations, messages)."""
    rows = query(env, "SELECT detail FROM review_auditentry WHERE action = 'retention'")
    details = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
    return (
        len(details),
        sum(d["conversations"] for d in details),
        sum(d["messages"] for d in details),
    )


def finished_at(env: dict):
    rows = query(env, "SELECT finished_at FROM conversations_runnerlease WHERE name = 'purge'")
    return rows[0][0] if rows else None


def deleted_in_logs(*logs: str) -> int:
    """Conversations each run says it deleted, over every process's log and output."""
    total = 0
    for log in logs:
        for _owner, counts in RUN_LINE.findall(log):
            found = re.search(r"(\d+) conversations", counts)
            total += int(found.group(1)) if found else 0
    return total


def test_two_processes_and_cron_delete_exactly_what_the_rules_say_each_once(tmp_path):
    env = database_env(tmp_path) | {
        "CHAT_RETENTION_DAYS": "30",
        "CHAT_PURGE_SECONDS": "1",  # Each process looks every second.
        "CHAT_PURGE_BATCH": "4",  # Many small transactions: runs overlap in time.
        "LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "LLM_API_KEY": "sk-retention",
    }
    full_env = {**os.environ, **env}
    servers = [start_server(env, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        for server in servers:
            wait_for(lambda s=server: "Purge runner" in s.log(), what="the runner to start")
        made = json.loads(shell(full_env, SETUP).strip().splitlines()[-1])
        cron = subprocess.Popen(
            [sys.executable, "manage.py", "purge"],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        everything = made["gone"] + made["kept"] + made["held"]
        wait_for(
            lambda: existing(env, everything) == set(made["kept"] + made["held"]),
            what="the conversations past their rule to go",
        )
        cron_output, _ = cron.communicate(timeout=60)
        assert cron.returncode == 0, cron_output

        # Each deleted once: the audit's counts (written in each batch's transaction) add
        # up to exactly what went, as do the runs' own reports.
        gone = len(made["gone"])
        assert audited(env)[1:] == (gone, made["gone_messages"])
        assert deleted_in_logs(*(s.log() for s in servers), cron_output) == gone
        # Runs go on (another finishes after this point) and take nothing more.
        after = finished_at(env)
        wait_for(lambda: finished_at(env) != after, what="another run to finish")
        assert audited(env)[1:] == (gone, made["gone_messages"])
        assert existing(env, everything) == set(made["kept"] + made["held"])

        # Resolved, the held conversations go at the next run, once.
        shell(full_env, RESOLVE)
        wait_for(
            lambda: existing(env, everything) == set(made["kept"]),
            what="the resolved conversations to go",
        )
        totals = audited(env)
        assert totals[1] == gone + len(made["held"])
        after = finished_at(env)
        wait_for(lambda: finished_at(env) != after, what="another run to finish")
        assert audited(env) == totals
        assert deleted_in_logs(*(s.log() for s in servers), cron_output) == totals[1]
        for server in servers:
            assert "Traceback" not in server.log()
    finally:
        for server in servers:
            server.stop()
