"""Importing as a person expects: the file's dates and models kept, a count said, and a
question before conversations imported before are copied again."""

import copy
import json
import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import services
from conversations.models import Conversation
from conversations.portability import importing
from conversations.portability.schema import NewConversation, NewMessage
from tests.portability.test_export import CHATGPT

pytestmark = pytest.mark.django_db


def ours(title: str, created: str, updated: str, model: str = "meta-llama/Llama-3.3-70B-Instruct"):
    return {
        "format": "chatsite.conversation",
        "version": 1,
        "title": title,
        "model": model,
        "created_at": created,
        "updated_at": updated,
        "current": 2,
        "tree": [
            {
                "id": 1,
                "parent": None,
                "role": "user",
                "content": f"{title}?",
                "created_at": created,
            },
            {"id": 2, "parent": 1, "role": "assistant", "content": "Yes.", "created_at": updated},
        ],
    }


def export_all(*conversations) -> bytes:
    return json.dumps(
        {"format": "chatsite.export", "version": 1, "conversations": list(conversations)}
    ).encode()


def upload(data: bytes, name: str = "conversations.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/json")


def test_imported_conversations_keep_their_dates_and_sort_among_the_others(client, user):
    today = services.conversation_create(owner=user, persona=None, model="m", title="Today's")
    data = export_all(
        ours("Old trip", "2021-03-01T09:00:00+00:00", "2021-03-04T18:30:00+00:00"),
        ours("Older notes", "2020-01-01T08:00:00+00:00", "2020-01-02T08:00:00+00:00"),
    )
    importing.import_file(user=user, data=data)
    trip = Conversation.objects.get(title="Old trip")
    assert trip.created_at == datetime(2021, 3, 1, 9, tzinfo=UTC)
    assert trip.updated_at == datetime(2021, 3, 4, 18, 30, tzinfo=UTC)
    client.force_login(user)
    listed = client.get("/conversations.json").json()["conversations"]
    assert [c["title"] for c in listed] == ["Today's", "Old trip", "Older notes"]
    assert listed[1]["updated_at"].startswith("2021-03-04T18:30:00")
    assert today.pk == listed[0]["id"]


def test_a_file_without_a_last_active_date_uses_its_last_message():
    def at(day: int, hour: int) -> datetime:
        return datetime(2022, 5, day, hour, tzinfo=UTC)

    conversation = NewConversation(
        title="t",
        created_at=at(1, 10),
        messages=[
            NewMessage(parent=None, fields={}, created_at=at(1, 10)),
            NewMessage(parent=0, fields={}, created_at=at(3, 11)),
            NewMessage(parent=1, fields={}, created_at=None),
        ],
    )
    assert importing.conversation_dates(conversation) == (at(1, 10), at(3, 11))
    assert importing.conversation_dates(NewConversation(title="t")) == (None, None)


def test_chatgpt_conversations_keep_their_dates_and_model(client, user):
    document = copy.deepcopy(CHATGPT)
    document[0]["update_time"] = 1700003600.0
    (conversation,) = importing.import_file(user=user, data=json.dumps(document).encode())
    assert conversation.created_at == datetime.fromtimestamp(1700000000, tz=UTC)
    assert conversation.updated_at == datetime.fromtimestamp(1700003600, tz=UTC)
    assert conversation.model == "gpt-4o"  # Its replies' model, for the picker.
    document[0]["default_model_slug"] = "gpt-4-turbo"
    document[0]["title"] = "Again"
    (again,) = importing.import_file(user=user, data=json.dumps(document).encode())
    assert again.model == "gpt-4-turbo"
    client.force_login(user)
    page = client.get(f"/conversations/{again.pk}/").content.decode()
    # Kept, and shown as unavailable: no such model at this provider.
    assert re.search(
        r'<summary id="model-button"[^>]*data-model="gpt-4-turbo" data-unavailable="1"', page
    )
    assert "gpt-4-turbo (unavailable)" in page


def test_success_says_how_many_were_imported(client, user):
    client.force_login(user)
    data = export_all(
        ours("One", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z"),
        ours("Two", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z"),
    )
    response = client.post("/import/", {"file": upload(data)}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Imported 2 conversations." in response.content.decode()
    single = json.dumps(ours("Three", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z")).encode()
    response = client.post("/import/", {"file": upload(single)}, follow=True)
    assert re.fullmatch(r"/conversations/\d+/", response.redirect_chain[-1][0])
    assert "Imported 1 conversation." in response.content.decode()


def test_importing_the_same_file_again_asks_first(client, user, other_user):
    client.force_login(user)
    first = export_all(
        ours("Kept", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z"),
        ours("Also kept", "2021-02-01T00:00:00Z", "2021-02-02T00:00:00Z"),
    )
    assert client.post("/import/", {"file": upload(first)}).status_code == 302
    Conversation.objects.filter(title="Kept").update(title="Kept, renamed")
    assert Conversation.objects.filter(owner=user).count() == 2

    # The same file, and one more conversation: nothing is saved until the user says.
    second = export_all(
        ours("Kept", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z"),
        ours("Also kept", "2021-02-01T00:00:00Z", "2021-02-02T00:00:00Z"),
        ours("New one", "2021-03-01T00:00:00Z", "2021-03-02T00:00:00Z"),
    )
    response = client.post("/import/", {"file": upload(second)})
    assert response.status_code == 409
    page = response.content.decode()
    assert "2 of the 3 conversations in this file were imported before" in page
    assert "Kept, renamed" in page and 'value="skip"' in page
    assert Conversation.objects.filter(owner=user).count() == 2
    # The page's script asks for JSON and keeps the file chosen.
    response = client.post(
        "/import/", {"file": upload(second)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 409
    assert response.json() == {"duplicates": ["Kept, renamed", "Also kept"], "count": 2, "total": 3}

    response = client.post("/import/", {"file": upload(second), "duplicates": "skip"}, follow=True)
    assert "Imported 1 conversation." in response.content.decode()
    titles = sorted(Conversation.objects.filter(owner=user).values_list("title", flat=True))
    assert titles == ["Also kept", "Kept, renamed", "New one"]

    response = client.post(
        "/import/",
        {"file": upload(second), "duplicates": "skip"},
        headers={"Accept": "application/json"},
    )
    assert response.json()["imported"] == 0  # Nothing new: nothing made.
    assert Conversation.objects.filter(owner=user).count() == 3

    response = client.post("/import/", {"file": upload(first), "duplicates": "copy"}, follow=True)
    assert "Imported 2 conversations." in response.content.decode()
    assert Conversation.objects.filter(owner=user, title="Also kept").count() == 2

    # Someone else importing the same file is not asked about this user's conversations.
    client.force_login(other_user)
    assert client.post("/import/", {"file": upload(first)}).status_code == 302


def test_only_imported_conversations_have_a_fingerprint_and_it_ignores_titles(user):
    native = services.conversation_create(owner=user, persona=None, model="m", title="Mine")
    assert native.import_fingerprint == ""
    a = ours("A", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z")
    b = {**ours("A", "2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z"), "title": "B"}
    (one,) = importing.import_file(user=user, data=json.dumps(a).encode())
    (two,) = importing.import_file(user=user, data=json.dumps(b).encode())
    assert len(one.import_fingerprint) == 64 and one.import_fingerprint == two.import_fingerprint
    changed = copy.deepcopy(a)
    changed["tree"][1]["content"] = "No."
    with pytest.raises(importing.ImportDuplicates):
        importing.import_file(user=user, data=json.dumps(b).encode(), duplicates="ask")
    (three,) = importing.import_file(user=user, data=json.dumps(changed).encode(), duplicates="ask")
    assert three.import_fingerprint != one.import_fingerprint
