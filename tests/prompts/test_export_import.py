"""A user's own prompts go into the all-export and come back on import; shared prompts and
other users' never go into it; a file's prompts are checked as the rest is."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import services
from conversations.portability import export, importing
from conversations.prompts.models import Prompt
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(user, other_user):
    Prompt.objects.create(owner=user, command="recap", title="Recap", text="Recap {{topic:it}}")
    Prompt.objects.create(owner=other_user, command="secret", title="Theirs", text="private")
    Prompt.objects.create(owner=None, command="shared", title="Shared", text="staff's")


def test_own_prompts_round_trip_and_nothing_else_is_exported(user, other_user, library):
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Chat")
    factories.message_append(conversation=conversation, role="user", content="hi", parent=None)
    document = export.export_all(user)
    assert document["prompts"] == [
        {"command": "recap", "title": "Recap", "text": "Recap {{topic:it}}"}
    ]
    text = json.dumps(document)
    assert "secret" not in text and "private" not in text and "staff's" not in text

    # Into a fresh account: the prompt comes back as that user's own.
    newcomer = type(user).objects.create_user(username="newcomer", password="x")
    saved = importing.import_file(user=newcomer, data=text.encode())
    assert len(saved) == 1
    assert list(Prompt.objects.filter(owner=newcomer).values_list("command", "text")) == [
        ("recap", "Recap {{topic:it}}")
    ]
    # Again: the command is there already, so nothing is added or changed.
    importing.import_file(user=newcomer, data=text.encode(), duplicates="skip")
    assert Prompt.objects.filter(owner=newcomer).count() == 1


def test_an_export_with_prompts_and_no_conversations_imports(user, other_user, library):
    text = json.dumps(export.export_all(user))
    assert importing.import_file(user=other_user, data=text.encode()) == []
    assert Prompt.objects.filter(owner=other_user, command="recap").exists()


def test_the_import_page_says_how_many_prompts_were_imported(client, user, other_user, library):
    document = export.export_all(user)
    client.force_login(other_user)

    def post(document: dict) -> str:
        upload = SimpleUploadedFile("export.json", json.dumps(document).encode())
        response = client.post("/import/", {"file": upload, "duplicates": "skip"}, follow=True)
        return response.content.decode()

    # Prompts only: they are counted, not called "nothing new".
    page = post(document)
    assert "Imported 1 prompt." in page and "Nothing new" not in page
    # Again: the command is there already, so nothing is new.
    assert "Nothing new to import" in post(document)
    # With conversations: both are counted.
    document["prompts"].append({"command": "plan", "title": "Plan", "text": "Plan {{what}}"})
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Chat")
    factories.message_append(conversation=conversation, role="user", content="hi", parent=None)
    document["conversations"] = export.export_all(user)["conversations"]
    assert "Imported 1 conversation and 1 prompt." in post(document)


def test_an_older_export_without_prompts_still_imports(user):
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Chat")
    factories.message_append(conversation=conversation, role="user", content="hi", parent=None)
    document = export.export_all(user)
    del document["prompts"]
    assert len(importing.import_file(user=user, data=json.dumps(document).encode())) == 1


@pytest.mark.parametrize(
    ("prompts", "reason"),
    [
        ("no", "Prompts: prompts: Input should be a valid list"),
        ([{"command": "Bad Name", "title": "t", "text": "x"}], "prompts[0].command"),
        ([{"command": "a" * 41, "title": "t", "text": "x"}], "prompts[0].command"),
        ([{"command": "ok", "title": "", "text": "x"}], "prompts[0].title"),
        ([{"command": "ok", "title": "t", "text": "x" * 20_001}], "prompts[0].text"),
        (
            [{"command": "ok", "title": "t", "text": " ".join(f"{{{{v{i}}}}}" for i in range(21))}],
            "at most 20 variables",
        ),
        ([{"command": "ok", "title": "t", "text": 5}], "prompts[0].text"),
        ([{"command": "ok", "title": "t", "text": "x"}] * 1001, "prompts"),
    ],
)
def test_a_file_with_bad_prompts_imports_nothing(user, prompts, reason):
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Chat")
    factories.message_append(conversation=conversation, role="user", content="hi", parent=None)
    document = export.export_all(user) | {"prompts": prompts}
    with pytest.raises(importing.ImportFailed) as failed:
        importing.import_file(user=user, data=json.dumps(document).encode())
    assert reason in str(failed.value)
    assert not Prompt.objects.filter(owner=user).exists()
    assert user.conversations.count() == 1


def test_an_import_past_the_users_bound_saves_nothing(user, settings):
    settings.CHAT_MAX_PROMPTS_PER_USER = 1
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Chat")
    factories.message_append(conversation=conversation, role="user", content="hi", parent=None)
    document = export.export_all(user) | {
        "prompts": [{"command": c, "title": c, "text": c} for c in ("a", "b")]
    }
    with pytest.raises(importing.ImportFailed, match="at most 1 prompts"):
        importing.import_file(user=user, data=json.dumps(document).encode())
    assert not Prompt.objects.filter(owner=user).exists()
    assert user.conversations.count() == 1
