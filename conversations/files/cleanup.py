"""Files go with what holds them, through the one deletion service (deletion/registry.py):
a deleted conversation's files and a deleted account's, removed from storage once the
transaction that deleted their rows has committed; and two jobs for the runner: uploads
never sent (older than CHAT_FILE_ORPHAN_HOURS) and stored files with no row at all.

Registered when the app is ready (apps.py)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..deletion import registry
from ..deletion import retention as _retention  # noqa: F401 - retention stays the first job
from . import services
from .models import Attachment, file_storage


def _orphan_cutoff():
    return timezone.now() - timedelta(hours=settings.CHAT_FILE_ORPHAN_HOURS)


@registry.on_conversations_deleted("files")
def conversations_files(conversation_ids: list[int]) -> registry.AfterCommit | None:
    """The files only these conversations' messages carry: their rows go now, their
    bytes once the deletion commits."""
    through = Attachment.messages.through
    carried = set(
        through.objects.filter(message__conversation_id__in=conversation_ids).values_list(
            "attachment_id", flat=True
        )
    )
    if not carried:
        return None
    elsewhere = set(
        through.objects.filter(attachment_id__in=carried)
        .exclude(message__conversation_id__in=conversation_ids)
        .values_list("attachment_id", flat=True)
    )
    gone = Attachment.objects.filter(pk__in=carried - elsewhere)
    names = list(gone.values_list("file", flat=True))
    gone.delete()
    return services.files_remove_after_commit(names)


@registry.on_account_deleted("files")
def account_files(user_id: int) -> registry.AfterCommit | None:
    """Every file of the account (sent or not): rows now, bytes after the commit."""
    owned = Attachment.objects.filter(owner_id=user_id)
    names = list(owned.values_list("file", flat=True))
    owned.delete()
    return services.files_remove_after_commit(names)


def unsent_batch(*, after: int, limit: int) -> registry.BatchResult:
    """Delete up to `limit` uploads never sent and older than CHAT_FILE_ORPHAN_HOURS (one
    transaction; the bytes go after it commits)."""
    with transaction.atomic():
        ids = list(
            Attachment.objects.filter(messages__isnull=True, created_at__lt=_orphan_cutoff())
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return registry.BatchResult(cursor=None)
        rows = Attachment.objects.filter(pk__in=ids, messages__isnull=True)
        names = list(rows.values_list("file", flat=True))
        deleted = rows.delete()[1].get(Attachment._meta.label, 0)
        transaction.on_commit(services.files_remove_after_commit(names) or (lambda: None))
    # Deleted rows are gone from the query: the next batch starts over, until none is left.
    return registry.BatchResult(
        cursor=after + 1 if len(ids) == limit else None, counts={"files": deleted}
    )


def unsent_preview() -> dict[str, int]:
    due = Attachment.objects.filter(messages__isnull=True, created_at__lt=_orphan_cutoff())
    return {"files": due.count()}


def _folders(after: int, limit: int) -> list[int]:
    """Owner folders in storage (named by user id) above `after`, the first `limit`."""
    try:
        folders, _ = file_storage().listdir("")
    except (FileNotFoundError, NotImplementedError):
        return []
    ids = sorted(int(name) for name in folders if name.isdigit() and int(name) > after)
    return ids[:limit]


def _strays(folder: int) -> list[str]:
    """Stored files in an owner's folder with no row, older than the orphan age (younger
    ones may belong to an upload whose row is being written)."""
    storage = file_storage()
    _, files = storage.listdir(str(folder))
    names = {f"{folder}/{name}" for name in files}
    known = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
    cutoff = _orphan_cutoff()
    return [name for name in sorted(names - known) if storage.get_modified_time(name) < cutoff]


def stray_batch(*, after: int, limit: int) -> registry.BatchResult:
    """Remove stored files that no row names, in up to `limit` owner folders above `after`."""
    folders = _folders(after, limit)
    if not folders:
        return registry.BatchResult(cursor=None)
    removed = 0
    for folder in folders:
        strays = _strays(folder)
        services.remove_stored(strays)
        removed += len(strays)
    return registry.BatchResult(cursor=folders[-1], counts={"files": removed} if removed else {})


def stray_preview() -> dict[str, int]:
    count, after = 0, 0
    while folders := _folders(after, 1000):
        count += sum(len(_strays(folder)) for folder in folders)
        after = folders[-1]
    return {"files": count}


UNSENT = registry.purge_job(
    registry.PurgeJob(name="unsent_files", batch=unsent_batch, preview=unsent_preview)
)
STRAYS = registry.purge_job(
    registry.PurgeJob(name="stray_files", batch=stray_batch, preview=stray_preview)
)
