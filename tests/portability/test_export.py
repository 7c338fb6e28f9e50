"""Search, export and import: round trips, ChatGPT's format, and files that must import nothing."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import selectors, services
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.portability import export, importing
from conversations.search import selectors as search
from conversations.turns import running as running_turns
from tests import factories

pytestmark = pytest.mark.django_db


def branched_conversation(owner) -> Conversation:
    """q1 → a1 → q2 → {a2, a2b}, q2 edited into q2' → a2' ; active: a2b; with a tool exchange."""
    persona = Persona.objects.create(name="Guide", system_prompt="Be kind.")
    c = services.conversation_create(owner=owner, persona=persona, model="m", title="Branchy")
    q1 = factories.message_append(conversation=c, role="user", content="q1", parent=None)
    a1 = factories.message_append(
        conversation=c, role="assistant", content="", parent=q1, model="m"
    )
    Message.objects.filter(pk=a1.pk).update(
        tool_calls=[{"id": "t1", "name": "calculator", "arguments": '{"expression": "1+1"}'}]
    )
    t1 = factories.message_append(
        conversation=c,
        role="tool",
        content="2",
        parent=a1,
        tool_call_id="t1",
        tool_name="calculator",
    )
    a1b = factories.message_append(
        conversation=c, role="assistant", content="It is **2**.", parent=t1, model="m"
    )
    q2 = factories.message_append(conversation=c, role="user", content="q2", parent=a1b)
    factories.message_append(conversation=c, role="assistant", content="a2", parent=q2, model="m")
    q2e = factories.message_append(conversation=c, role="user", content="q2 edited", parent=a1b)
    factories.message_append(
        conversation=c, role="assistant", content="a2 edited", parent=q2e, model="m"
    )
    factories.message_append(conversation=c, role="assistant", content="a2b", parent=q2, model="m")
    c.refresh_from_db()
    return c


def normalized(export: dict) -> dict:
    """An export with database ids replaced by positions, to compare two installs' exports."""
    position = {node["id"]: i for i, node in enumerate(export["tree"])}
    data = {k: v for k, v in export.items() if k not in ("id", "tree", "current")}
    data["tree"] = [
        {
            **{k: v for k, v in node.items() if k not in ("id", "parent")},
            "parent": position.get(node["parent"]),
        }
        for node in export["tree"]
    ]
    data["current"] = position[export["current"]]
    return data


def test_export_import_round_trip_is_identical(user):
    original = branched_conversation(user)
    exported = export.export_conversation(original)
    assert len(exported["tree"]) == 9
    (imported,) = importing.import_file(user=user, data=json.dumps(exported).encode())
    again = export.export_conversation(imported)
    assert imported.pk != original.pk
    assert normalized(again) == normalized(exported)
    assert again["messages"][-1] == {"role": "assistant", "content": "a2b"}
    assert again["persona"] == {"id": original.persona_id, "name": "Guide"}


def test_import_through_the_page_and_export_all(client, user):
    branched_conversation(user)
    services.conversation_create(owner=user, persona=None, model="m", title="Empty")
    client.force_login(user)
    everything = client.get("/export/all.json")
    assert everything["Content-Disposition"] == 'attachment; filename="conversations.json"'
    data = everything.json()
    assert data["format"] == "chatsite.export" and len(data["conversations"]) == 2
    before = Conversation.objects.count()
    response = client.post("/import/", {"file": SimpleUploadedFile("all.json", everything.content)})
    assert response.status_code == 302
    assert Conversation.objects.count() == before + 2


def test_markdown_export(client, user):
    conversation = branched_conversation(user)
    client.force_login(user)
    response = client.get(f"/conversations/{conversation.pk}/export.md")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/markdown")
    assert text.startswith("# Branchy\n")
    assert "**System**\n\nBe kind." in text
    assert "> Called `calculator`" in text and "> **Tool result** `calculator`" in text
    assert text.index("**You**\n\nq2") < text.index("a2b")
    assert "a2 edited" not in text  # Only the active branch.


CHATGPT = [
    {
        "title": "Paris trip",
        "create_time": 1700000000.0,
        "current_node": "n5",
        "mapping": {
            "root": {"id": "root", "message": None, "parent": None, "children": ["sys"]},
            "sys": {
                "id": "sys",
                "message": {
                    "author": {"role": "system"},
                    "content": {"content_type": "text", "parts": [""]},
                },
                "parent": "root",
                "children": ["n1"],
            },
            "n1": {
                "id": "n1",
                "message": {
                    "author": {"role": "user"},
                    "create_time": 1700000001.0,
                    "content": {"content_type": "text", "parts": ["Plan a day in Paris"]},
                },
                "parent": "sys",
                "children": ["n2", "n3"],
            },
            "n2": {
                "id": "n2",
                "message": {
                    "author": {"role": "assistant"},
                    "content": {"content_type": "text", "parts": ["Louvre, then lunch."]},
                    "metadata": {"model_slug": "gpt-4o"},
                },
                "parent": "n1",
                "children": [],
            },
            "n3": {
                "id": "n3",
                "message": {
                    "author": {"role": "assistant"},
                    "content": {"content_type": "text", "parts": ["Eiffel Tower first."]},
                    "metadata": {"model_slug": "gpt-4o"},
                },
                "parent": "n1",
                "children": ["n4"],
            },
            "n4": {
                "id": "n4",
                "message": {
                    "author": {"role": "user"},
                    "content": {
                        "content_type": "multimodal_text",
                        "parts": [{"asset_pointer": "file-1"}, "And dinner?"],
                    },
                },
                "parent": "n3",
                "children": ["n5"],
            },
            "n5": {
                "id": "n5",
                "message": {
                    "author": {"role": "assistant"},
                    "content": {"content_type": "text", "parts": ["A bistro in Le Marais."]},
                },
                "parent": "n4",
                "children": [],
            },
        },
    }
]


def test_chatgpt_import_keeps_branches(user):
    (conversation,) = importing.import_file(user=user, data=json.dumps(CHATGPT).encode())
    assert conversation.title == "Paris trip"
    tree = list(conversation.messages.order_by("id"))
    assert [m.content for m in tree] == [
        "Plan a day in Paris",
        "Louvre, then lunch.",
        "Eiffel Tower first.",
        "[attachment]\nAnd dinner?",
        "A bistro in Le Marais.",
    ]
    question = tree[0]
    assert question.parent is None
    assert {m.content for m in question.children.all()} == {
        "Louvre, then lunch.",
        "Eiffel Tower first.",
    }
    assert tree[1].model == "gpt-4o"
    branch = selectors.message_branch(conversation=conversation)
    assert [m.content for m in branch][-1] == "A bistro in Le Marais."
    assert tree[0].created_at.year == 2023


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b'{"hello": 1}', "neither an export from this app nor ChatGPT"),
        (
            b'{"format": "chatsite.export", "version": 1, "conversations": []}',
            "holds no conversations",
        ),
        (
            json.dumps(
                {
                    "format": "chatsite.conversation",
                    "tree": [{"id": 1, "role": "wizard", "content": "x"}],
                }
            ).encode(),
            "Conversation 1: tree[0].role: Input should be",
        ),
        (
            json.dumps(
                {
                    "format": "chatsite.conversation",
                    "tree": [{"id": 1, "parent": 7, "role": "user", "content": "x"}],
                }
            ).encode(),
            "Conversation 1: the parent of message 1 is missing.",
        ),
    ],
)
def test_bad_files_get_a_clear_error_and_import_nothing(client, user, content, error):
    client.force_login(user)
    response = client.post("/import/", {"file": SimpleUploadedFile("bad.json", content)})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_bad_conversation_late_in_a_file_imports_nothing_at_all(user):
    good = export.export_conversation(branched_conversation(user))
    Conversation.objects.all().delete()
    bad = {
        "format": "chatsite.conversation",
        "tree": [{"id": 1, "parent": 99, "role": "user", "content": "x"}],
    }
    document = {"format": "chatsite.export", "version": 1, "conversations": [good, good, bad]}
    with pytest.raises(importing.ImportFailed):
        importing.import_file(user=user, data=json.dumps(document).encode())
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_search_finds_words_in_messages_and_titles_of_ones_own(client, user, other_user):
    mine = services.conversation_create(owner=user, persona=None, model="m", title="Weekend plans")
    factories.message_append(
        conversation=mine, role="user", content="Which sourdough starter should I buy?", parent=None
    )
    titled = services.conversation_create(
        owner=user, persona=None, model="m", title="Sourdough diary"
    )
    theirs = services.conversation_create(owner=other_user, persona=None, model="m", title="Secret")
    factories.message_append(
        conversation=theirs, role="user", content="my sourdough secret", parent=None
    )
    client.force_login(user)
    results = client.get("/search.json", {"q": "sourdough"}).json()["results"]
    assert {r["conversation"] for r in results} == {mine.pk, titled.pk}
    hit = next(r for r in results if r["conversation"] == mine.pk)
    assert "sourdough starter" in hit["snippet"] and hit["title"] == "Weekend plans"
    # Prefixes match, FTS syntax in the query is just text, and edits are re-indexed.
    assert client.get("/search.json", {"q": "sourd"}).json()["results"]
    assert client.get("/search.json", {"q": 'NEAR("x" OR'}).status_code == 200
    message = mine.messages.get()
    running_turns.turns_flush(progress=[running_turns.Progress(message.pk, "rye bread only", "")])
    assert [
        r["conversation"] for r in client.get("/search.json", {"q": "sourdough"}).json()["results"]
    ] == [titled.pk]
    assert client.get("/search.json", {"q": "rye"}).json()["results"][0]["conversation"] == mine.pk


def test_search_sees_replies_finished_after_streaming_and_survives_migrations(user):
    # A reply is saved empty, then filled in by updates; later migrations on SQLite
    # rebuild the message table, which drops its triggers unless they are restored.
    from django.db import connection

    from conversations.search import index as search_index

    conversation = services.conversation_create(owner=user, persona=None, model="m", title="T")
    question = factories.message_append(
        conversation=conversation, role="user", content="A herb?", parent=None
    )
    reply = factories.message_append(
        conversation=conversation, role="assistant", content="", parent=question
    )
    factories.message_finish(message_id=reply.pk, status="complete", content="Try basil.")
    assert [
        hit["message"] for hit in search.conversation_search(user_id=user.pk, query="basil")
    ] == [reply.pk]
    assert search_index.ensure(connection) is False  # Nothing was missing after migrate.
