"""Export zips: the JSON export and the files its messages carry, written and read.

Layout: the JSON document (`conversation.json` for one conversation, `conversations.json`
for all of a user's) and each file once as `files/<attachment id, 32 hex digits>`, whatever
name the user gave it (that name is in the JSON, and is never used as a path).

Reading a zip from outside is bounded before anything is decompressed: its entries are
counted, each entry's name must be one of those two shapes exactly (a name like
`../../etc/passwd` or `/x` is refused, never resolved), and each entry's declared size
and compression ratio are checked; decompression then never yields more than the
declared size (zipfile stops there and checks the CRC).
"""

import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, BinaryIO

from django.conf import settings

JSON_NAMES = ("conversation.json", "conversations.json")
FILE_ENTRY = re.compile(r"files/([0-9a-f]{32})")
ZIP_MAGIC = b"PK\x03\x04"
# A deflated entry larger than this must shrink by at most MAX_RATIO: a real PDF, image or
# JSON export never comes near it; a zip bomb (a gigabyte of zeros in a megabyte) does.
RATIO_FLOOR = 1_000_000
MAX_RATIO = 100
READ_CHUNK = 1 << 16


class ArchiveRefused(ValueError):
    """A zip this app will not read, and why, in words fit to show."""


@dataclass
class Archive:
    """An export zip, checked: its JSON document and where each file's bytes are."""

    zip: zipfile.ZipFile
    document: bytes
    entries: dict[str, zipfile.ZipInfo]  # By attachment id (hex).

    def read(self, file_id: str, *, limit: int) -> bytes:
        """One file's bytes; ArchiveRefused when it is missing or larger than `limit`."""
        info = self.entries.get(file_id)
        if info is None:
            raise ArchiveRefused(f"The zip has no file {file_id} that its JSON names.")
        if info.file_size > limit:
            raise ArchiveRefused(
                f"The zip's file {file_id} is {info.file_size:,} bytes; at most {limit:,} "
                "can be attached."
            )
        return _read(self.zip, info, limit)


def is_zip(data: bytes) -> bool:
    return data[:4] == ZIP_MAGIC


def open_archive(stream: BinaryIO) -> Archive:
    """Check a zip's table of contents and read its JSON document; ArchiveRefused says why
    it cannot be read."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveRefused(f"The file is not a readable zip ({exc}).") from None
    infos = archive.infolist()
    most = settings.CHAT_IMPORT_MAX_FILES + 1
    if len(infos) > most:
        raise ArchiveRefused(
            f"The zip holds {len(infos):,} entries; an export holds at most {most:,} "
            f"(its JSON and {settings.CHAT_IMPORT_MAX_FILES:,} files)."
        )
    total = sum(info.file_size for info in infos)
    if total > settings.CHAT_IMPORT_MAX_UNZIPPED_BYTES:
        raise ArchiveRefused(
            f"The zip unpacks to {total:,} bytes; at most "
            f"{settings.CHAT_IMPORT_MAX_UNZIPPED_BYTES:,} can be imported."
        )
    document, entries = None, {}
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise ArchiveRefused("The zip is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveRefused(
                f"The zip's entry “{name[:100]}” is compressed in a way not read here."
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveRefused(
                f"The zip's entry “{name[:100]}” unpacks to over {MAX_RATIO} times its packed "
                "size, as zip bombs do."
            )
        if name in JSON_NAMES:
            if document is not None:
                raise ArchiveRefused("The zip holds more than one JSON document.")
            document = info
        elif match := FILE_ENTRY.fullmatch(name):
            if match[1] in entries:
                raise ArchiveRefused(f"The zip holds the file {match[1]} twice.")
            entries[match[1]] = info
        else:
            # Never a path: an entry named otherwise is not from an export.
            raise ArchiveRefused(
                f"The zip's entry “{name[:100]}” is not part of an export "
                "(only conversation.json or conversations.json and files/<id>)."
            )
    if document is None:
        raise ArchiveRefused("The zip holds no conversation.json or conversations.json.")
    limit = settings.CHAT_IMPORT_MAX_BYTES
    if document.file_size > limit:
        raise ArchiveRefused(f"The zip's JSON is larger than {limit / 1_000_000:g} MB.")
    return Archive(zip=archive, document=_read(archive, document, limit), entries=entries)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, never more than `limit` (and zipfile never more than declared)."""
    chunks, size = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArchiveRefused(f"The zip's entry “{info.filename[:100]}” is too large.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
        if isinstance(exc, ArchiveRefused):
            raise
        raise ArchiveRefused(
            f"The zip's entry “{info.filename[:100]}” cannot be read ({exc})."
        ) from None
    return b"".join(chunks)


def write_archive(
    *, name: str, document: bytes, files: Iterable[tuple[str, IO[bytes]]]
) -> IO[bytes]:
    """A zip of the JSON `document` (under `name`) and each (attachment id, open file),
    spooled to disk past a few MB; returned rewound, for a FileResponse to stream."""
    out = tempfile.SpooledTemporaryFile(max_size=8_000_000)  # The response closes it.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, document)
        for file_id, source in files:
            with source, archive.open(f"files/{file_id}", "w", force_zip64=True) as target:
                while chunk := source.read(READ_CHUNK):
                    target.write(chunk)
    out.seek(0)
    return out
