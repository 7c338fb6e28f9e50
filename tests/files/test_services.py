"""The upload service: every bound refused with its numbers and nothing stored; names
sanitised; the text block the model reads."""

import pytest

from conversations.files import services
from conversations.files.models import Attachment, file_storage
from tests.files import samples
from tests.files.helpers import attach

pytestmark = pytest.mark.django_db


def stored_files(files_root) -> list:
    return [p for p in files_root.rglob("*") if p.is_file()]


def test_an_upload_is_stored_with_its_hash_and_tokens(user, tmp_path, files_root):
    attachment = attach(user, "a.txt", b"hello world", tmp_path)
    assert attachment.size == 11 and len(attachment.sha256) == 64
    assert attachment.tokens > 2  # The block around it counts too.
    assert attachment.file.name == f"{user.pk}/{attachment.pk.hex}"  # Never the user's name.
    assert (files_root / attachment.file.name).read_bytes() == b"hello world"
    assert file_storage().location == str(files_root)  # The storage the setting names.


def test_the_users_total_bytes_are_a_bound(user, other_user, tmp_path, files_root, settings):
    settings.CHAT_MAX_FILE_BYTES_PER_USER = 25
    attach(user, "a.txt", b"x" * 20, tmp_path)
    before = stored_files(files_root)
    with pytest.raises(services.FileRefused) as refused:
        attach(user, "b.txt", b"y" * 10, tmp_path)
    assert refused.value.status == 413
    assert "take 20 bytes; this one (10 bytes) would pass the 25 bytes" in refused.value.message
    assert stored_files(files_root) == before and Attachment.objects.count() == 1
    attach(other_user, "c.txt", b"z" * 20, tmp_path)  # Each person has their own total.


def test_uploads_never_sent_are_a_bound(user, tmp_path, settings):
    settings.CHAT_MAX_FILES_PER_MESSAGE = 1  # Five messages' worth: five files.
    for i in range(5):
        attach(user, f"{i}.txt", b"x", tmp_path)
    with pytest.raises(services.FileRefused, match="5 files attached and not sent; at most 5"):
        attach(user, "6.txt", b"x", tmp_path)


def test_a_file_too_large_for_the_window_is_refused_with_the_numbers(user, tmp_path):
    with pytest.raises(services.FileRefused) as refused:
        attach(user, "long.txt", b"word " * 2000, tmp_path, max_tokens=500)
    assert refused.value.status == 413
    assert "This file is about 2,0" in refused.value.message
    assert "leaves room for 500." in refused.value.message
    assert not Attachment.objects.exists()


def test_a_refused_type_stores_nothing(user, tmp_path, files_root):
    before = stored_files(files_root)
    with pytest.raises(services.FileRefused, match="SVG"):
        attach(user, "a.svg", samples.SVG, tmp_path)
    assert stored_files(files_root) == before and not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ('a"b<c>.txt', "a_b_c_.txt"),
        ("line\nbreak\r.txt", "line break .txt"),
        ("\u202egnp.exe", "gnp.exe"),
        ("...", "file"),
        ("", "file"),
        ("x" * 300 + ".md", "x" * 197 + ".md"),
    ],
)
def test_names_are_sanitised(given, kept):
    assert services.sanitised_name(given) == kept


def test_a_text_block_escapes_its_name_and_names_its_pages():
    attachment = Attachment(
        name='a"<b>&.pdf', content_type="application/pdf", pages=2, text="Body", kind="text"
    )
    assert services.file_block(attachment) == (
        '<file name="a&quot;&lt;b&gt;&amp;.pdf" type="application/pdf" pages="2">\nBody\n'
        "</file>\n\n"
    )
    attachment.text, attachment.note = "", "This PDF has no text layer."
    assert "\n[This PDF has no text layer.]\n" in services.file_block(attachment)
