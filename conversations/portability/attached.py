"""Files in exports and imports: what a conversation's messages carry, written into an
export zip; read back from one, checked against its JSON, then stored as uploads are.

An import's files are checked before anything is saved: each one the JSON names is in the
zip, of the size and SHA-256 the JSON gives (a file whose bytes are not what the JSON says
is refused), no larger than an upload may be, and all of them fit in what the user may
still keep. Each is then stored through the upload's own service (type by content, pixels,
text read in a worker), so an import can hold nothing an upload could not.
"""

import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from ..chat import budget
from ..files import selectors as file_selectors
from ..files import services as file_services
from ..files.models import Attachment
from . import selectors as portability_selectors
from .archive import Archive, ArchiveRefused, write_archive
from .schema import FileIn, NewConversation


class FilesRefused(ValueError):
    """An import's files cannot be taken, in words fit to show."""


def file_entry(attachment: Attachment) -> dict:
    """A file as the export's JSON describes it (portability/schema.py FileIn)."""
    return {
        "id": attachment.pk.hex,
        "name": attachment.name,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "pages": attachment.pages,
        "note": attachment.note,
    }


def file_ids(documents: Iterable[dict]) -> list[str]:
    """Every file the conversations' messages carry, once each, in order."""
    ids = (f["id"] for d in documents for m in d["tree"] for f in m.get("files", ()))
    return list(dict.fromkeys(ids))


def export_zip(*, user: AbstractBaseUser, name: str, document: bytes, ids: list[str]) -> IO[bytes]:
    """The export zip: the JSON `document` and the bytes of each of the user's files."""
    attachments = portability_selectors.attachments_own(user=user, ids=ids)
    return write_archive(
        name=name,
        document=document,
        files=((a.pk.hex, file_selectors.attachment_open(a)) for a in attachments),
    )


def without_files(conversations: list[NewConversation]) -> None:
    """A JSON export (no zip) brings no files' bytes: its messages come without them."""
    for conversation in conversations:
        conversation.files = {}
        for message in conversation.messages:
            message.files = []


def stage(
    *, user: AbstractBaseUser, conversations: list[NewConversation], archive: Archive, folder: str
) -> None:
    """Check the files these conversations carry against the zip and the user's room, and
    write each to `folder` (named by its id) for `upload_all`; FilesRefused says why not."""
    wanted: dict[str, FileIn] = {}
    for conversation in conversations:
        wanted.update(conversation.files)
    if not wanted:
        return
    total = sum(file.size for file in wanted.values())
    used = file_selectors.bytes_used(user_id=user.pk)
    allowed = settings.CHAT_MAX_FILE_BYTES_PER_USER
    if used + total > allowed:
        raise FilesRefused(
            f"The file's {len(wanted):,} files take {total:,} bytes; with the {used:,} "
            f"your files take already, that passes the {allowed:,} bytes each person may keep."
        )
    for file_id, file in wanted.items():
        try:
            data = archive.read(file_id, limit=settings.CHAT_MAX_FILE_BYTES)
        except ArchiveRefused as exc:
            raise FilesRefused(f"“{file.name}”: {exc}") from None
        if len(data) != file.size or hashlib.sha256(data).hexdigest() != file.sha256:
            raise FilesRefused(
                f"The zip's “{file.name}” is not the file its JSON describes (its size or "
                "SHA-256 differ)."
            )
        Path(folder, file_id).write_bytes(data)


def upload_all(
    *,
    user: AbstractBaseUser,
    conversation: NewConversation,
    folder: str,
    made: dict[str, Attachment],
) -> None:
    """Store each staged file of `conversation` as an upload would be, into `made` by id,
    before its transaction begins (reading a PDF may take seconds: no write lock is held
    meanwhile). FilesRefused when the upload's checks refuse one, or it is not the kind
    the JSON says; the caller then discards what `made` holds."""
    for file_id, file in conversation.files.items():
        try:
            attachment = file_services.attachment_upload(
                user=user,
                path=str(Path(folder, file_id)),
                name=file.name,
                size=file.size,
                count_tokens=budget.count_tokens,
            )
        except file_services.FileRefused as refused:
            raise FilesRefused(f"“{file.name}”: {refused.message}") from None
        made[file_id] = attachment
        if attachment.kind != file.kind:
            raise FilesRefused(f"“{file.name}” is not the {file.kind} file its JSON says it is.")


def discard(*, user: AbstractBaseUser, made: dict[str, Attachment]) -> None:
    """Files stored for a conversation that was not saved: deleted, rows and bytes (they
    were never sent, so they are the user's to delete like any unsent upload)."""
    for attachment in made.values():
        file_services.attachment_delete(user=user, attachment_id=str(attachment.pk))


def staging_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="chat-import-")
