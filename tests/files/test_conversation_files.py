"""Files through a whole turn: uploaded, sent with a message over the websocket, carried
upstream in the documented format, kept by edits and regenerations, refused for another
user's id and for a model that takes no images."""

import base64
import io

import pytest
from channels.db import database_sync_to_async as db
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from conversations.catalog.models import ModelInfo
from conversations.files.models import Attachment
from conversations.models import Conversation, Message
from tests.fake_upstream import text_stream
from tests.files import samples
from tests.helpers import by_type, full_turn, open_socket, receive_until, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def uploaded(user, name: str, data: bytes) -> str:
    client = Client()
    client.force_login(user)
    response = client.post("/api/files", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 201, response.content
    return response.json()["id"]


async def upload(user, name: str, data: bytes) -> str:
    return await db(uploaded)(user, name, data)


async def test_a_pdf_and_an_image_go_upstream_as_the_protocol_says(connect, user, fake_upstream):
    await db(ModelInfo.objects.create)(model_id="test-model", supports_images=True)
    pdf_id = await upload(user, 'q3 "report".pdf', samples.pdf(["Revenue rose 12%."]))
    png_id = await upload(user, "shot.png", samples.image("PNG", (30, 20)))
    fake_upstream.script(text_stream("Both seen."))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="What do these say?", attachments=[pdf_id, png_id])
    assert reply["status"] == "complete"
    sent_user = by_type(frames, "message.created")[0]["message"]
    assert [a["id"] for a in sent_user["attachments"]] == [pdf_id, png_id]
    assert sent_user["attachments"][0] | {"id": None} == {
        "id": None,
        "name": "q3 _report_.pdf",
        "size": sent_user["attachments"][0]["size"],
        "kind": "text",
        "content_type": "application/pdf",
        "pages": 1,
        "note": "",
    }
    assert by_type(frames, "message.created")[1]["message"]["attachments"] == []

    body = fake_upstream.completions()[-1].body
    content = body["messages"][-1]["content"]
    assert isinstance(content, list) and [p["type"] for p in content] == ["text", "image_url"]
    assert content[0]["text"] == (
        '<file name="q3 _report_.pdf" type="application/pdf" pages="1">\n'
        "Revenue rose 12%.\n</file>\n\nWhat do these say?"
    )
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert picture.size == (30, 20)
    # What was sent names the files, never their bytes.
    record = reply["request"]
    assert record["files"] == [
        {"message": sent_user["id"], "id": pdf_id, "name": "q3 _report_.pdf", "kind": "text"},
        {"message": sent_user["id"], "id": png_id, "name": "shot.png", "kind": "image"},
    ]
    assert "base64" not in str(record)


async def test_text_files_alone_make_a_string_and_regenerations_keep_them(
    connect, user, fake_upstream
):
    file_id = await upload(user, "data.csv", b"a,b\n1,2\n")
    fake_upstream.script(text_stream("One."), text_stream("Two."))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="Sum it", attachments=[file_id])
    first = fake_upstream.completions()[-1].body["messages"][-1]["content"]
    assert first == '<file name="data.csv" type="text/csv">\na,b\n1,2\n\n</file>\n\nSum it'
    conversation = by_type(frames, "message.created")[0]["conversation"]
    await wait_idle(conversation)
    await ws.send_json_to(
        {"type": "chat.regenerate", "conversation": conversation, "message": reply["id"]}
    )
    await receive_until(ws, "message.completed")
    assert fake_upstream.completions()[-1].body["messages"][-1]["content"] == first


async def test_an_edit_keeps_its_messages_files_unless_it_names_others(
    connect, user, fake_upstream
):
    file_id = await upload(user, "a.txt", b"alpha")
    other_id = await upload(user, "b.txt", b"beta")
    fake_upstream.script(text_stream("1"), text_stream("2"), text_stream("3"))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Q", attachments=[file_id])
    conversation = by_type(frames, "message.created")[0]["conversation"]
    question = by_type(frames, "message.created")[0]["message"]["id"]
    for client_id, extra, expected in (
        ("e1", {}, "alpha"),
        ("e2", {"attachments": [other_id]}, "beta"),
    ):
        await wait_idle(conversation)
        await ws.send_json_to(
            {"type": "chat.edit", "client_id": client_id, "conversation": conversation,
             "message": question, "content": "Q again", **extra}
        )  # fmt: skip
        edited = await receive_until(ws, "message.completed")
        files = by_type(edited, "message.created")[0]["message"]["attachments"]
        assert [f["name"] for f in files] == ["a.txt" if expected == "alpha" else "b.txt"]
        assert expected in fake_upstream.completions()[-1].body["messages"][-1]["content"]
    counts = await db(lambda: [a.messages.count() for a in Attachment.objects.order_by("name")])()
    assert counts == [2, 1]  # The first file is on both versions that kept it: one row.


async def test_another_users_file_is_refused_as_a_missing_one(
    connect, user, other_user, fake_upstream
):
    theirs = await upload(other_user, "secret.txt", b"their secret")
    ws = await open_socket(connect, user)
    answers = []
    for file_id in (theirs, "00000000-0000-0000-0000-000000000000", "nonsense"):
        await ws.send_json_to(
            {"type": "chat.send", "client_id": file_id[:8], "conversation": None,
             "content": "Read it", "attachments": [file_id]}
        )  # fmt: skip
        answers.append(await ws.receive_json_from())
    assert {(a["code"], a["message"]) for a in answers} == {
        ("not_found", "That file does not exist.")
    }
    assert await db(Message.objects.count)() == 0
    assert await db(Conversation.objects.count)() == 0
    assert fake_upstream.completions() == []


async def test_too_many_files_in_one_message_are_refused(connect, user, settings):
    settings.CHAT_MAX_FILES_PER_MESSAGE = 2
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        {"type": "chat.send", "client_id": "c", "conversation": None, "content": "x",
         "attachments": ["a", "b", "c"]}
    )  # fmt: skip
    refused = await ws.receive_json_from()
    assert (refused["code"], refused["message"]) == (
        "bad_request",
        "A message may carry at most 2 files.",
    )


async def test_a_model_that_takes_no_images_is_refused_with_an_image(connect, user, fake_upstream):
    image_id = await upload(user, "shot.png", samples.image("PNG"))
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        {"type": "chat.send", "client_id": "c", "conversation": None, "content": "See",
         "attachments": [image_id]}
    )  # fmt: skip
    refused = await ws.receive_json_from()
    assert refused["code"] == "bad_request" and refused["field"] == "model"
    assert "does not take images" in refused["message"]
    assert fake_upstream.completions() == []
    assert await db(Message.objects.count)() == 0


async def test_a_resent_message_is_answered_with_its_files(connect, user, fake_upstream):
    file_id = await upload(user, "a.txt", b"alpha")
    fake_upstream.script(text_stream("Once."))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Q", attachments=[file_id], client_id="same")
    await wait_idle(by_type(frames, "message.created")[0]["conversation"])
    await ws.send_json_to(
        {"type": "chat.send", "client_id": "same", "conversation": None, "content": "Q",
         "attachments": [file_id]}
    )  # fmt: skip
    again = await receive_until(ws, "message.created")
    assert [f["id"] for f in again[-1]["message"]["attachments"]] == [file_id]
    assert len(fake_upstream.completions()) == 1


async def test_reopening_a_conversation_shows_its_files(connect, user, fake_upstream):
    file_id = await upload(user, "a.txt", b"alpha")
    fake_upstream.script(text_stream("Once."))
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Q", attachments=[file_id])
    conversation = by_type(frames, "message.created")[0]["conversation"]
    await wait_idle(conversation)
    other = await open_socket(connect, user)
    await other.send_json_to({"type": "conversation.open", "conversation": conversation})
    state = (await receive_until(other, "conversation.state"))[-1]
    question, reply = state["messages"]
    assert [f["name"] for f in question["attachments"]] == ["a.txt"]
    assert reply["attachments"] == []
