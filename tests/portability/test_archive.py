"""Export zips read from outside: bounded in entries, ratio and total size before anything
is unpacked, and no entry name is ever a path."""

import io
import zipfile

import pytest

from conversations.portability import archive
from conversations.portability.archive import ArchiveRefused, open_archive, write_archive

DOC = b'{"format": "chatsite.conversation", "tree": []}'
FILE_ID = "0123456789abcdef0123456789abcdef"


def zipped(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    out.seek(0)
    return out


def test_an_export_zip_is_read_back_whole():
    out = write_archive(
        name="conversation.json", document=DOC, files=[(FILE_ID, io.BytesIO(b"hello"))]
    )
    data = out.read()
    assert archive.is_zip(data)
    read = open_archive(io.BytesIO(data))
    assert read.document == DOC
    assert read.read(FILE_ID, limit=100) == b"hello"


def test_too_many_entries_are_refused_before_reading(settings):
    settings.CHAT_IMPORT_MAX_FILES = 3
    entries = {"conversation.json": DOC} | {f"files/{i:032x}": b"x" for i in range(4)}
    with pytest.raises(ArchiveRefused, match="5 entries; an export holds at most 4"):
        open_archive(zipped(entries))
    del entries[f"files/{3:032x}"]
    assert len(open_archive(zipped(entries)).entries) == 3


def test_a_zip_bomb_is_refused_by_its_ratio():
    bomb = zipped({"conversation.json": DOC, f"files/{FILE_ID}": b"\0" * 20_000_000})
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(ArchiveRefused, match="over 100 times its packed size"):
        open_archive(bomb)


def test_the_total_unpacked_size_is_bounded(settings):
    settings.CHAT_IMPORT_MAX_UNZIPPED_BYTES = 1_000
    entries = {"conversation.json": DOC, f"files/{FILE_ID}": b"y" * 1_000}
    with pytest.raises(ArchiveRefused, match="unpacks to 1,047 bytes; at most 1,000"):
        open_archive(zipped(entries, zipfile.ZIP_STORED))


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "files/../../x",
        f"files/{FILE_ID}/../../conversation.json",
        f"..\\files\\{FILE_ID}",
        f"files/{FILE_ID.upper()}",
        "files/report.pdf",
        "__MACOSX/._conversation.json",
    ],
)
def test_names_are_never_paths(name):
    with pytest.raises(ArchiveRefused, match="is not part of an export"):
        open_archive(zipped({"conversation.json": DOC, name: b"x"}))


def test_a_file_the_json_names_must_be_there_and_fit():
    read = open_archive(zipped({"conversation.json": DOC, f"files/{FILE_ID}": b"z" * 50}))
    with pytest.raises(ArchiveRefused, match="no file 1111"):
        read.read("1" * 32, limit=100)
    with pytest.raises(ArchiveRefused, match="is 50 bytes; at most 10"):
        read.read(FILE_ID, limit=10)


def test_a_lying_size_in_the_zip_is_caught_by_its_check():
    data = bytearray(
        zipped(
            {"conversation.json": DOC, f"files/{FILE_ID}": b"a" * 100}, zipfile.ZIP_STORED
        ).getvalue()
    )
    at = data.index(b"a" * 100)
    data[at : at + 3] = b"bad"  # The bytes no longer match the entry's CRC.
    read = open_archive(io.BytesIO(bytes(data)))
    with pytest.raises(ArchiveRefused, match="cannot be read"):
        read.read(FILE_ID, limit=1000)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04 not really", "not a readable zip"),
        (zipped({f"files/{FILE_ID}": b"x"}).getvalue(), "no conversation.json"),
        (
            zipped({"conversation.json": DOC, "conversations.json": DOC}).getvalue(),
            "more than one JSON",
        ),
    ],
)
def test_broken_zips_say_why(data, words):
    with pytest.raises(ArchiveRefused, match=words):
        open_archive(io.BytesIO(data))
