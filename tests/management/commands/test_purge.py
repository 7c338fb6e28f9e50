"""`manage.py purge`: cron's way to run the deletions, beside or instead of the servers'."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations.deletion import runner, services
from tests.deletion.support import aged, remaining

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_says_what_would_go_and_deletes_nothing(settings, user):
    settings.CHAT_RETENTION_DAYS = 30
    old, young = aged(user, 31, messages=3), aged(user, 1)
    assert purge("--dry-run") == (
        "retention: would delete 1 conversations, 3 messages, 1 owners, 0 held, 0 running.\n"
        "unsent_files: would delete 0 files.\n"
        "stray_files: would delete 0 files.\n"
        "temporary: would delete 0 conversations, 0 messages, 0 running.\n"
    )
    assert remaining(old, young) == {old.pk, young.pk}


def test_a_run_deletes_in_batches_and_says_how_much(settings, user):
    settings.CHAT_RETENTION_DAYS = 30
    old = [aged(user, 31) for _ in range(3)]
    young = aged(user, 1)
    files = (
        "unsent_files: deleted nothing.\nstray_files: deleted nothing.\n"
        "temporary: deleted nothing.\n"
    )
    assert purge("--batch", "2") == "retention: deleted 3 conversations, 6 messages.\n" + files
    assert remaining(*old, young) == {young.pk}
    assert purge() == "retention: deleted nothing.\n" + files


def test_a_run_leaves_it_to_the_process_holding_the_lease(settings, user):
    settings.CHAT_RETENTION_DAYS = 30
    old = aged(user, 31)
    services.lease_claim(name=runner.LEASE_NAME, owner="a-server", seconds=60)
    assert "Another process is running the deletions now" in purge()
    assert remaining(old) == {old.pk}


def test_a_batch_must_hold_something():
    with pytest.raises(CommandError, match="--batch must be 1 or more"):
        purge("--batch", "0")
