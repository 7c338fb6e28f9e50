"""Files over HTTP: upload, remove, download and view; each refusal with its numbers, and
anyone else's file the same 404 as a missing one."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations.files.models import Attachment
from tests.files import samples

pytestmark = pytest.mark.django_db


def upload(client, name: str, data: bytes, **fields):
    return client.post(
        "/api/files", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart"
    )


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_text_file_is_uploaded_read_and_counted(signed_in, user):
    response = upload(signed_in, "notes.md", b"# Notes\n\nBuy milk.\n")
    assert response.status_code == 201
    data = response.json()
    assert data["name"] == "notes.md" and data["kind"] == "text"
    assert data["content_type"] == "text/markdown" and data["size"] == 19
    assert data["tokens"] > 5 and data["pages"] is None and data["note"] == ""
    row = Attachment.objects.get(pk=data["id"])
    assert row.owner == user and row.text == "# Notes\n\nBuy milk.\n" and row.messages.count() == 0


def test_a_pdf_is_read_for_its_text_and_pages(signed_in):
    data = upload(signed_in, "report.pdf", samples.pdf(["First page", "Second page"])).json()
    assert data["content_type"] == "application/pdf" and data["pages"] == 2
    assert "Second page" in Attachment.objects.get(pk=data["id"]).text


def test_a_pdf_without_a_text_layer_says_so(signed_in):
    data = upload(signed_in, "scan.pdf", samples.pdf(["", ""])).json()
    assert data["note"] == "This PDF has no text layer."


def test_an_image_is_re_encoded_without_its_metadata(signed_in, files_root):
    response = upload(signed_in, "photo.jpg", samples.jpeg_with_exif())
    assert response.status_code == 201, response.content
    row = Attachment.objects.get(pk=response.json()["id"])
    assert row.kind == "image" and (row.width, row.height) == (40, 30)
    stored = (files_root / row.file.name).read_bytes()
    assert b"SecretCam" not in stored and b"Exif" not in stored


def test_svg_and_programs_are_refused(signed_in):
    response = upload(signed_in, "logo.svg", samples.SVG)
    assert response.status_code == 400 and "SVG" in response.json()["error"]
    response = upload(signed_in, "readme.txt", samples.EXE)
    assert response.status_code == 400 and "not text" in response.json()["error"]
    assert not Attachment.objects.exists()


def test_a_file_too_large_is_refused_with_the_numbers(signed_in, settings):
    settings.CHAT_MAX_FILE_BYTES = 1000
    response = upload(signed_in, "big.txt", b"a" * 1001)
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["error"]
    assert not Attachment.objects.exists()


def test_uploads_need_a_session_and_the_csrf_token(client, user):
    assert upload(client, "a.txt", b"hello").status_code == 401
    checked = type(client)(enforce_csrf_checks=True)
    checked.force_login(user)
    assert upload(checked, "a.txt", b"hello").status_code == 403


def test_another_users_file_is_not_found(signed_in, client, other_user):
    file_id = upload(signed_in, "a.txt", b"hello").json()["id"]
    client.force_login(other_user)
    for response in (
        client.get(f"/files/{file_id}"),
        client.get(f"/files/{file_id}/view"),
        client.delete(f"/api/files/{file_id}"),
        client.get("/files/not-a-uuid"),
    ):
        assert response.status_code == 404
    assert Attachment.objects.filter(pk=file_id).exists()


def test_downloads_are_attachments_that_never_run(signed_in):
    file_id = upload(signed_in, 'x"<b>.html', b"<script>alert(1)</script>").json()["id"]
    response = signed_in.get(f"/files/{file_id}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert '"' not in response["Content-Disposition"].split("filename=")[1].strip('"')
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    # Only images are shown inline.
    assert signed_in.get(f"/files/{file_id}/view").status_code == 404


def test_an_unsent_file_is_removed_with_its_stored_bytes(
    signed_in, files_root, django_capture_on_commit_callbacks
):
    file_id = upload(signed_in, "a.txt", b"hello").json()["id"]
    stored = files_root / Attachment.objects.get(pk=file_id).file.name
    assert stored.read_bytes() == b"hello"
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_in.delete(f"/api/files/{file_id}").status_code == 204
    assert not Attachment.objects.filter(pk=file_id).exists()
    assert not stored.exists()


def test_a_file_too_long_for_the_chosen_models_window_is_refused(signed_in):
    from conversations.catalog.models import ModelInfo

    ModelInfo.objects.create(model_id="small/model", context_window=2048)
    text = b"lorem ipsum dolor " * 2000  # About 6,000 tokens.
    response = upload(signed_in, "long.txt", text, model="small/model")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error.startswith("This file is about 6,0") and "leaves room for 1,536." in error
    assert upload(signed_in, "long.txt", text).status_code == 201  # The default's is larger.


def test_a_reviewer_fetches_a_queued_conversations_file_and_it_is_audited(
    signed_in, client, user, reviewer, tmp_path
):
    from conversations.files import services as file_services
    from conversations.review.models import AuditEntry
    from conversations.review.services import queue_add
    from tests.review.builders import chat

    file_id = upload(signed_in, "shot.png", samples.image("PNG")).json()["id"]
    attachment = Attachment.objects.get(pk=file_id)
    conversation = chat(user)
    question = conversation.messages.filter(role="user").first()
    file_services.attachments_link(message=question, attachments=[attachment])
    client.force_login(reviewer)
    assert client.get(f"/files/{file_id}").status_code == 404  # Not queued: not theirs.
    assert not AuditEntry.objects.filter(action="view_file").exists()
    queue_add(actor=reviewer, conversation=conversation)
    response = client.get(f"/files/{file_id}/view")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    entry = AuditEntry.objects.get(action="view_file")
    assert (entry.actor_id, entry.conversation_id, entry.owner_id) == (
        reviewer.pk,
        conversation.pk,
        user.pk,
    )
    assert entry.detail == {"file": file_id, "kind": "image", "queued": True}
