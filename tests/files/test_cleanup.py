"""Files go with their conversations and accounts, after the deletion commits, through the
one deletion service; uploads never sent and stored files with no row are purged by the
runner."""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services as conversation_services
from conversations.deletion import registry, runner
from conversations.deletion import services as deletion
from conversations.files import services as file_services
from conversations.files.models import Attachment
from tests import factories
from tests.files.helpers import attach

pytestmark = pytest.mark.django_db(transaction=True)


def sent(user, attachment, tmp_path):
    conversation = conversation_services.conversation_create(
        owner=user, persona=None, model="m", title="T"
    )
    message = factories.message_append(
        conversation=conversation, role="user", content="see", parent=None
    )
    file_services.attachments_link(message=message, attachments=[attachment])
    return conversation


def stored(files_root, attachment) -> "os.PathLike":
    return files_root / attachment.file.name


def test_deleting_a_conversation_deletes_its_files_after_the_commit(
    user, tmp_path, files_root, monkeypatch
):
    mine = attach(user, "a.txt", b"alpha", tmp_path)
    other = attach(user, "b.txt", b"beta", tmp_path)
    conversation = sent(user, mine, tmp_path)
    sent(user, other, tmp_path)
    # Nothing leaves storage while the deletion's transaction is open.
    seen_during = []
    cleanup = registry.CONVERSATION_CLEANUPS["files"]

    def watching(ids):
        after = cleanup(ids)
        seen_during.append(stored(files_root, mine).exists())
        return after

    monkeypatch.setitem(registry.CONVERSATION_CLEANUPS, "files", watching)
    deletion.conversation_delete(conversation=conversation)
    assert seen_during == [True]
    assert not Attachment.objects.filter(pk=mine.pk).exists()
    assert not stored(files_root, mine).exists()
    assert stored(files_root, other).exists()  # Another conversation's stays.


def test_a_rolled_back_deletion_keeps_the_files(user, tmp_path, files_root, monkeypatch):
    attachment = attach(user, "a.txt", b"alpha", tmp_path)
    conversation = sent(user, attachment, tmp_path)

    def failing(ids):
        raise RuntimeError("the database refused")

    monkeypatch.setitem(registry.CONVERSATION_CLEANUPS, "zz-failing", failing)
    with pytest.raises(RuntimeError):
        deletion.conversation_delete(conversation=conversation)
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert stored(files_root, attachment).exists()


def test_deleting_an_account_deletes_all_its_files(user, other_user, tmp_path, files_root):
    sent_one = attach(user, "a.txt", b"alpha", tmp_path)
    sent(user, sent_one, tmp_path)
    unsent = attach(user, "b.txt", b"beta", tmp_path)
    theirs = attach(other_user, "c.txt", b"gamma", tmp_path)
    deletion.account_delete(user=user)
    assert list(Attachment.objects.all()) == [theirs]
    assert not stored(files_root, sent_one).exists() and not stored(files_root, unsent).exists()
    assert stored(files_root, theirs).exists()


def test_the_runner_purges_old_unsent_uploads_and_stray_files(user, tmp_path, files_root, settings):
    settings.CHAT_FILE_ORPHAN_HOURS = 1
    old_unsent = attach(user, "old.txt", b"old", tmp_path)
    new_unsent = attach(user, "new.txt", b"new", tmp_path)
    old_sent = attach(user, "kept.txt", b"kept", tmp_path)
    sent(user, old_sent, tmp_path)
    long_ago = timezone.now() - timedelta(hours=2)
    Attachment.objects.filter(pk__in=[old_unsent.pk, old_sent.pk]).update(created_at=long_ago)
    # Bytes with no row: an old one (a crash between the save and the row), and a young
    # one (an upload whose row is being written) that must stay.
    folder = files_root / str(user.pk)
    stray_old, stray_new = folder / "deadbeef", folder / "cafebabe"
    stray_old.write_bytes(b"lost")
    stray_new.write_bytes(b"in flight")
    two_hours_ago = time.time() - 7200
    os.utime(stray_old, (two_hours_ago, two_hours_ago))
    preview = runner.preview()
    assert preview["unsent_files"] == {"files": 1} and preview["stray_files"] == {"files": 1}
    report = runner.run(owner="test", batch=1)
    assert report.finished
    assert report.counts["unsent_files"] == {"files": 1}
    assert report.counts["stray_files"] == {"files": 1}
    assert set(Attachment.objects.values_list("name", flat=True)) == {"new.txt", "kept.txt"}
    assert not stored(files_root, old_unsent).exists()
    assert stored(files_root, new_unsent).exists() and stored(files_root, old_sent).exists()
    assert not stray_old.exists() and stray_new.exists()
