"""Files through export and import: the zip carries each file once; importing it checks
every file against its JSON and the user's room before saving, then stores each as an
upload is, owned by the importer; a file that is not what the JSON says is refused with
nothing kept."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import services
from conversations.files import services as file_services
from conversations.files.models import Attachment
from conversations.models import Conversation
from conversations.portability import attached, export, importing
from tests import factories
from tests.files import samples

pytestmark = pytest.mark.django_db


def attachment_make(user, name: str, data: bytes, tmp_path) -> Attachment:
    """A file uploaded by `user`, as POST /api/files stores it."""
    path = tmp_path / f"upload-{name}"
    path.write_bytes(data)
    return file_services.attachment_upload(
        user=user, path=str(path), name=name, size=len(data), count_tokens=len
    )


def conversation_with_files(user, tmp_path):
    """A question with a PDF and an image; an edit of it keeps the same two files."""
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Q")
    pdf = attachment_make(user, "report.pdf", samples.pdf(["Revenue rose 12%"]), tmp_path)
    png = attachment_make(user, "shot.png", samples.image(), tmp_path)
    asked = factories.message_append(
        conversation=conversation, role="user", content="What is this?", parent=None
    )
    factories.message_append(
        conversation=conversation, role="assistant", content="A report.", parent=asked
    )
    edited = factories.message_append(
        conversation=conversation, role="user", content="And this?", parent=None
    )
    file_services.attachments_link(message=asked, attachments=[pdf, png])
    file_services.attachments_link(message=edited, attachments=[pdf, png])
    conversation.refresh_from_db()
    return conversation, pdf, png


def zip_of(user, conversation) -> bytes:
    document = export.export_conversation(conversation)
    out = attached.export_zip(
        user=user,
        name="conversation.json",
        document=json.dumps(document).encode(),
        ids=attached.file_ids([document]),
    )
    return out.read()


def rezip(data: bytes, change) -> bytes:
    """The same zip with its entries passed through `change(name, bytes) -> bytes`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, change(name, source.read(name)))
    return out.getvalue()


def stored_names(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_the_zip_carries_each_file_once_and_imports_as_the_importers_own(
    user, other_user, tmp_path
):
    conversation, pdf, png = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["conversation.json", f"files/{pdf.pk.hex}", f"files/{png.pk.hex}"]
        )
        document = json.loads(archive.read("conversation.json"))
    described = [m.get("files", []) for m in document["tree"]]
    assert [[f["name"] for f in files] for files in described] == [
        ["report.pdf", "shot.png"],
        [],
        ["report.pdf", "shot.png"],
    ]
    assert described[0][0]["sha256"] == pdf.sha256

    [copy] = importing.import_file(user=other_user, data=data)
    assert copy.has_files  # The chat's pages read its files.
    theirs = Attachment.objects.filter(owner=other_user).order_by("created_at")
    assert [a.name for a in theirs] == ["report.pdf", "shot.png"]  # Once each, not per message.
    assert {a.pk for a in theirs}.isdisjoint({pdf.pk, png.pk})
    assert theirs[0].sha256 == pdf.sha256 and "Revenue rose 12%" in theirs[0].text
    assert theirs[1].kind == "image" and theirs[1].width == 64
    questions = copy.messages.filter(role="user").order_by("id")
    for question in questions:
        assert sorted(a.name for a in question.attachments.all()) == ["report.pdf", "shot.png"]


def test_the_json_export_describes_files_and_imports_messages_without_them(
    user, other_user, tmp_path
):
    conversation, _, _ = conversation_with_files(user, tmp_path)
    data = json.dumps(export.export_conversation(conversation)).encode()
    [copy] = importing.import_file(user=other_user, data=data)
    assert copy.messages.count() == 3 and not copy.has_files
    assert not Attachment.objects.filter(owner=other_user).exists()


def test_a_file_whose_bytes_are_not_what_the_json_says_is_refused_with_nothing_kept(
    user, other_user, tmp_path, files_root
):
    conversation, pdf, _ = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)
    swapped = rezip(data, lambda name, b: samples.pdf(["Other"]) if pdf.pk.hex in name else b)
    before = stored_names(files_root)
    with pytest.raises(importing.ImportFailed, match="is not the file its JSON describes"):
        importing.import_file(user=other_user, data=swapped)
    assert not Conversation.objects.filter(owner=other_user).exists()
    assert not Attachment.objects.filter(owner=other_user).exists()
    assert stored_names(files_root) == before


def test_a_disguised_file_is_refused_by_its_content_and_nothing_is_kept(
    user, other_user, tmp_path, files_root, django_capture_on_commit_callbacks
):
    """The JSON and the bytes agree, but the bytes are an SVG posing as a PNG: the
    upload's own check refuses it, and the conversation is not saved."""
    conversation, _, png = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

    def disguise(name: str, body: bytes) -> bytes:
        if name != "conversation.json":
            return svg if png.pk.hex in name else body
        document = json.loads(body)
        for message in document["tree"]:
            for file in message.get("files", []):
                if file["id"] == png.pk.hex:
                    file["size"] = len(svg)
                    file["sha256"] = hashlib.sha256(svg).hexdigest()
        return json.dumps(document).encode()

    before = stored_names(files_root)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(importing.ImportFailed, match=r"“shot\.png”") as refused,
    ):
        importing.import_file(user=other_user, data=rezip(data, disguise))
    assert "0 of 1 conversations were imported" in str(refused.value)
    assert not Conversation.objects.filter(owner=other_user).exists()
    assert not Attachment.objects.filter(owner=other_user).exists()
    assert stored_names(files_root) == before  # The PDF stored before it was removed again.


def test_the_importers_room_for_files_is_checked_before_saving(
    user, other_user, tmp_path, settings
):
    conversation, pdf, png = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)
    settings.CHAT_MAX_FILE_BYTES_PER_USER = pdf.size + png.size - 1
    with pytest.raises(importing.ImportFailed, match=f"take {pdf.size + png.size:,} bytes"):
        importing.import_file(user=other_user, data=data)
    assert not Conversation.objects.filter(owner=other_user).exists()


def test_each_file_is_held_to_the_upload_size(user, other_user, tmp_path, settings):
    conversation, pdf, _ = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)
    settings.CHAT_MAX_FILE_BYTES = pdf.size - 1
    with pytest.raises(importing.ImportFailed, match=r"“report\.pdf”: .* at most"):
        importing.import_file(user=other_user, data=data)


def test_only_a_users_message_may_carry_files(user, other_user, tmp_path):
    conversation, _, _ = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)

    def move(name: str, body: bytes) -> bytes:
        if name != "conversation.json":
            return body
        document = json.loads(body)
        document["tree"][1]["files"] = document["tree"][0]["files"]
        return json.dumps(document).encode()

    with pytest.raises(importing.ImportFailed, match="only a user's message may"):
        importing.import_file(user=other_user, data=rezip(data, move))


def test_the_import_page_takes_the_zip(client, user, other_user, tmp_path):
    conversation, _, _ = conversation_with_files(user, tmp_path)
    data = zip_of(user, conversation)
    client.force_login(other_user)
    upload = SimpleUploadedFile("conversation.zip", data, content_type="application/zip")
    response = client.post("/import/", {"file": upload, "duplicates": "copy"})
    assert response.status_code == 302
    assert Attachment.objects.filter(owner=other_user).count() == 2


def test_the_export_zip_is_the_owners_alone(client, user, other_user, tmp_path):
    conversation, _, _ = conversation_with_files(user, tmp_path)
    client.force_login(other_user)
    assert client.get(f"/conversations/{conversation.pk}/export.zip").status_code == 404
    client.force_login(user)
    response = client.get(f"/conversations/{conversation.pk}/export.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert len(archive.namelist()) == 3
    response = client.get("/export/all.zip")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert "conversations.json" in archive.namelist()


def test_the_markdown_export_names_a_messages_files(user, tmp_path):
    conversation, _, _ = conversation_with_files(user, tmp_path)
    text = export.export_markdown(conversation)
    assert "> Attached: report.pdf (text, " in text and "> Attached: shot.png (image, " in text
