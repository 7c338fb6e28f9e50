"""Writes of attachments: an upload checked, read and stored; an unsent one removed; a
message's files linked; files removed from storage after their rows are gone."""

import hashlib
import logging
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction

from ..models import Conversation, Message
from . import selectors, workers
from .models import Attachment, file_storage, stored_name
from .reading import Refused, image_tokens

logger = logging.getLogger(__name__)

NAME_CHARS = 200
HASH_CHUNK = 1024 * 1024


class FileRefused(Exception):
    """An upload not taken: `message` is fit to show; `status` the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def sanitised_name(name: str) -> str:
    """A file name safe to show and to put in a Content-Disposition header: its last path
    part, without control or format characters, quotes, slashes or leading dots, at most
    NAME_CHARS characters (the extension kept)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in name)
    name = re.sub(r'["<>:|?*;%]', "_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot and stem else ""
        name = name[: NAME_CHARS - len(ext) - 1].rstrip() + ("." + ext if ext else "")
        name = name[:NAME_CHARS]
    return name or "file"


def file_block(attachment: Attachment) -> str:
    """A text file as the model reads it (docs/protocol.md, "What the model is sent")."""
    attributes = f'name="{_attribute(attachment.name)}" type="{attachment.content_type}"'
    if attachment.pages is not None:
        attributes += f' pages="{attachment.pages}"'
    body = attachment.text if attachment.text.strip() else f"[{attachment.note or 'Empty.'}]"
    return f"<file {attributes}>\n{body}\n</file>\n\n"


def _attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def attachment_upload(
    *,
    user: AbstractBaseUser,
    path: str,
    name: str,
    size: int,
    count_tokens: Callable[[str], int],
    max_tokens: int | None = None,
) -> Attachment:
    """Check, read and store an upload that sits at `path` (a temporary file); return its
    row. `max_tokens`: the most the file may take of the model's window. Raises
    FileRefused, with nothing stored. The three steps, for a caller that runs the slow
    middle one on a thread of its own (the upload view): upload_check, upload_read,
    upload_store."""
    name = upload_check(user=user, name=name, size=size)
    with tempfile.TemporaryDirectory(prefix="chat-upload-") as folder:
        attachment, stored_path = upload_read(
            user=user, path=path, name=name, folder=folder,
            count_tokens=count_tokens, max_tokens=max_tokens,
        )  # fmt: skip
        return upload_store(attachment=attachment, stored_path=stored_path)


def upload_check(*, user: AbstractBaseUser, name: str, size: int) -> str:
    """The bounds an upload meets before it is read; returns its sanitised name."""
    _check_room(user_id=user.pk, size=size)
    return sanitised_name(name)


def upload_read(
    *,
    user: AbstractBaseUser,
    path: str,
    name: str,
    folder: str,
    count_tokens: Callable[[str], int],
    max_tokens: int | None = None,
) -> tuple[Attachment, str]:
    """Read the upload in a worker (blocking for up to CHAT_FILE_TIMEOUT; no database):
    its unsaved row, and the path of the bytes to store (an image's re-encoded copy,
    written in `folder`)."""
    out_path = str(Path(folder) / "image")
    try:
        read = workers.read(path, name=name, out_path=out_path)
    except Refused as exc:
        raise FileRefused(str(exc)) from None
    attachment = Attachment(owner_id=user.pk, name=name, **read)
    if attachment.kind == Attachment.Kind.IMAGE:
        stored_path = out_path
        attachment.tokens = image_tokens(attachment.width or 0, attachment.height or 0)
    else:
        stored_path = path
        attachment.tokens = count_tokens(file_block(attachment))
    if max_tokens is not None and attachment.tokens > max_tokens:
        raise FileRefused(
            f"This file is about {attachment.tokens:,} tokens; the model's window leaves "
            f"room for {max(max_tokens, 0):,}.",
            status=413,
        )
    attachment.size = Path(stored_path).stat().st_size
    attachment.sha256 = _sha256(stored_path)
    return attachment, stored_path


def upload_store(*, attachment: Attachment, stored_path: str) -> Attachment:
    """Store the bytes at `stored_path` and save the row, the user's room counted again
    under a lock with the bytes actually stored; nothing is kept if either fails."""
    with transaction.atomic():
        _check_room(user_id=attachment.owner_id, size=attachment.size, lock=True)
        # Through the configured storage each time (the field's own is fixed at import).
        with open(stored_path, "rb") as stored:
            attachment.file.name = file_storage().save(stored_name(attachment, ""), File(stored))
        try:
            attachment.save(force_insert=True)
        except BaseException:
            remove_stored([attachment.file.name])
            raise
    return attachment


def _check_room(*, user_id: int, size: int, lock: bool = False) -> None:
    most = settings.CHAT_MAX_FILE_BYTES
    if size > most:
        raise FileRefused(
            f"This file is {size:,} bytes; files may be at most {most:,} bytes.", status=413
        )
    if lock:
        get_user_model().objects.select_for_update().filter(pk=user_id).first()
    unsent = selectors.unsent_count(user_id=user_id)
    most_unsent = settings.CHAT_MAX_FILES_PER_MESSAGE * selectors.UNSENT_MESSAGES
    if unsent >= most_unsent:
        raise FileRefused(
            f"You have {unsent:,} files attached and not sent; at most {most_unsent:,}. "
            "Send or remove some first.",
            status=413,
        )
    used = selectors.bytes_used(user_id=user_id)
    allowed = settings.CHAT_MAX_FILE_BYTES_PER_USER
    if used + size > allowed:
        raise FileRefused(
            f"Your files take {used:,} bytes; this one ({size:,} bytes) would pass the "
            f"{allowed:,} bytes each person may keep. Delete conversations with files to "
            "make room.",
            status=413,
        )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def attachment_delete(*, user: AbstractBaseUser, attachment_id: str) -> bool:
    """Delete the user's own unsent attachment; False when there is none such (missing,
    another's, or already sent: a sent file goes with its conversation)."""
    attachment = selectors.attachment_own(user=user, attachment_id=attachment_id)
    if attachment is None or attachment.messages.exists():
        return False
    name = attachment.file.name
    with transaction.atomic():
        attachment.delete()
        transaction.on_commit(lambda: remove_stored([name]))
    return True


def attachments_link(
    *, message: Message, attachments: Iterable[Attachment], mark_conversation: bool = True
) -> None:
    """Carry these attachments on a user message (in the caller's transaction), and mark
    its conversation as one with files (turns read a branch's files only then). A turn's
    start marks it in its own UPDATE (`mark_conversation=False`); anyone else (an import)
    leaves it to this."""
    through = Attachment.messages.through
    links = [through(attachment_id=a.pk, message_id=message.pk) for a in attachments]
    if not links:
        return
    through.objects.bulk_create(links, ignore_conflicts=True)
    if mark_conversation:
        Conversation.objects.filter(pk=message.conversation_id, has_files=False).update(
            has_files=True
        )


def remove_stored(names: Iterable[str]) -> None:
    """Remove stored files (after the rows are gone); a failure is logged, the rest go."""
    storage = file_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:
            logger.exception("A stored file could not be deleted")


def files_remove_after_commit(names: list[str]) -> Callable[[], None] | None:
    """The deletion service's after-commit step for these stored files."""
    return (lambda: remove_stored(names)) if names else None
