"""Imports that must fail cleanly (400, a reason, nothing saved) and imports that must scale."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from conversations import selectors
from conversations.models import Conversation, Message
from conversations.portability import export, importing
from conversations.search import selectors as search

pytestmark = pytest.mark.django_db


def ours(*tree: dict, **extra) -> bytes:
    return json.dumps({"format": "chatsite.conversation", "tree": list(tree), **extra}).encode()


def msg(id=1, parent=None, role="user", content="x", **fields) -> dict:
    return {"id": id, "parent": parent, "role": role, "content": content, **fields}


def chatgpt(mapping: dict, **extra) -> bytes:
    return json.dumps([{"title": "T", "mapping": mapping, **extra}]).encode()


def node(parent=None, children=(), text="hi", role="user", **message) -> dict:
    return {
        "parent": parent,
        "children": list(children),
        "message": None
        if text is None
        else {
            "author": {"role": role},
            "content": {"content_type": "text", "parts": [text]},
            **message,
        },
    }


def post(client, user, content: bytes):
    client.force_login(user)
    return client.post("/import/", {"file": SimpleUploadedFile("f.json", content)})


def assert_refused(client, user, content: bytes, reason: str, status: int = 400) -> None:
    response = post(client, user, content)
    page = response.content.decode()
    assert response.status_code == status, page
    error = page.split('id="import-error">', 1)[1].split("</div>", 1)[0]
    assert reason in error.replace("&#x27;", "'").replace("&quot;", '"')
    assert not Conversation.objects.exists() and not Message.objects.exists()


# A file that references itself: these once grew memory by ~70 MB/s until the process died.
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            # ChatGPT, 283 bytes: A's child is B, whose child is A.
            chatgpt({"a": node(None, ["b"], text=None), "b": node("a", ["a"])}),
            "node 'b' lists 'a' as a child, but that is not its parent.",
        ),
        (
            chatgpt({"a": node("b", ["b"]), "b": node("a", ["a"])}),
            "its messages' parents form a cycle.",
        ),
        (chatgpt({"a": node("a", [])}), "node 'a' is its own parent."),
        (chatgpt({"a": node(None, ["a"])}), "node 'a' lists itself as its own child."),
        (
            chatgpt({"a": node(None, ["c"]), "b": node(None, ["c"]), "c": node("a")}),
            "node 'c' is a child of both 'a' and 'b'.",
        ),
        (chatgpt({"a": node(None, ["zz"])}), "node 'a' lists a child 'zz' that is missing."),
        (chatgpt({"a": node("zz")}), "the parent of node 'a' is missing."),
        (ours(msg(1, 2), msg(2, 1)), "its messages' parents form a cycle."),
        (ours(msg(1), msg(2, 3), msg(3, 4), msg(4, 2)), "its messages' parents form a cycle."),
        (ours(msg(1, 1)), "message 1 is its own parent."),
        (ours(msg(1), msg(1)), "two messages have the id 1."),
        (ours(msg(1), msg(2, 1), current=7), "its current message 7 is not in its tree."),
    ],
)
def test_cycles_self_references_and_shared_children_are_clear_errors(client, user, content, reason):
    assert_refused(client, user, content, f"Conversation 1: {reason}")


MALFORMED = [
    # Not JSON, or JSON no parser should hold in memory.
    (ours(msg(content="\ud800")), "not valid JSON"),
    (
        b'{"format": "chatsite.conversation", "tree": [{"id": 1, "role": "user", "content": "\xff"}]}',
        "not valid JSON",
    ),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON (recursion limit exceeded"),
    (
        ours(msg(prompt_tokens=1)).replace(b'"prompt_tokens": 1', b'"prompt_tokens": NaN'),
        "not valid JSON",
    ),
    (
        ours(msg(prompt_tokens=1)).replace(
            b'"prompt_tokens": 1', b'"prompt_tokens": ' + b"9" * 5000
        ),
        "not valid JSON",
    ),
    (b"[" + b"[]," * 3_000_001 + b"[]]", "more than 3,000,000 JSON values"),
    # Wrong types.
    (ours(msg(tool_calls="calculator")), "tree[0].tool_calls: Input should be a valid list"),
    (
        ours(
            msg(
                role="assistant",
                tool_calls=[{"id": "t", "name": "calculator", "arguments": {"x": 1}}],
            )
        ),
        "tree[0].tool_calls[0].arguments: Input should be a valid string",
    ),
    (ours(msg(content=["a"])), "tree[0].content: Input should be a valid string"),
    (ours(msg(prompt_tokens="12")), "tree[0].prompt_tokens: Input should be a valid integer"),
    (
        ours(msg(prompt_tokens=2**40)),
        "tree[0].prompt_tokens: Input should be less than or equal to 2147483647",
    ),
    (
        ours(msg(prompt_tokens=-1)),
        "tree[0].prompt_tokens: Input should be greater than or equal to 0",
    ),
    (ours(msg(), pinned="yes"), "pinned: Input should be a valid boolean"),
    (ours(msg(), persona={"id": "3", "name": "x"}), "persona.id: Input should be a valid integer"),
    (
        json.dumps({"format": "chatsite.conversation", "tree": {"1": {}}}).encode(),
        "tree: Input should be a valid list",
    ),
    (
        json.dumps({"format": "chatsite.export", "conversations": [1]}).encode(),
        "Each of the file's conversations must be a JSON object",
    ),
    (
        json.dumps({"format": "chatsite.export", "version": 2, "conversations": []}).encode(),
        "version (2) is newer than this app can read",
    ),
    (json.dumps([{"mapping": []}]).encode(), "mapping: Input should be a valid dictionary"),
    (
        chatgpt({"a": {"parent": None, "children": "b", "message": None}}),
        "mapping.a.children: Input should be a valid list",
    ),
    # Huge timestamps.
    (
        ours(msg(created_at="+275760-09-13T00:00:00Z")),
        "tree[0].created_at: Input should be a valid datetime",
    ),
    (ours(msg(created_at=1e20)), "tree[0].created_at"),
    (
        ours(msg(created_at="9999-12-31T23:59:59-14:00")),
        "tree[0].created_at: must be a date between 1970 and 3000",
    ),
    (
        ours(msg(), created_at="0001-01-01T00:00:00Z"),
        "created_at: must be a date between 1970 and 3000",
    ),
    (
        chatgpt({"a": node(create_time=1e20)}),
        "mapping.a.message.create_time: must be a time between 1970 and 3000",
    ),
    (
        chatgpt({"a": node()}, create_time=-1e300),
        "create_time: must be a time between 1970 and 3000",
    ),
    # Ids that could never be dictionary keys, or are not ids at all.
    (ours(msg(id=[1])), "tree[0].id: must be a whole number or a string of 1 to 200 characters"),
    (ours(msg(id={"a": 1})), "tree[0].id: must be a whole number"),
    (ours(msg(id=True)), "tree[0].id: must be a whole number"),
    (ours(msg(id=1.5)), "tree[0].id: must be a whole number"),
    (ours(msg(1), msg(2, parent=[1])), "tree[1].parent: must be a whole number"),
    (ours(msg(1), current={"id": 1}), "current: must be a whole number"),
    (chatgpt({"a": node(parent=["x"])}), "mapping.a.parent: Input should be a valid string"),
    (chatgpt({"a": node()}, current_node=["a"]), "current_node: Input should be a valid string"),
    # Roles and statuses.
    (
        ours(msg(role="wizard")),
        "tree[0].role: Input should be 'system', 'user', 'assistant' or 'tool'",
    ),
    (chatgpt({"a": node(role="robot")}), "mapping.a.message.author.role: Input should be"),
    (
        ours(msg(status="finished")),
        "tree[0].status: Input should be 'pending', 'streaming', 'complete'",
    ),
    # Oversized strings.
    (
        ours(msg(content="x" * 1_000_001)),
        "tree[0].content: String should have at most 1000000 characters",
    ),
    (ours(msg(model="m" * 201)), "tree[0].model: String should have at most 200 characters"),
    (
        ours(msg(tool_call_id="t" * 101)),
        "tree[0].tool_call_id: String should have at most 100 characters",
    ),
    (
        ours(msg(id="i" * 201)),
        "tree[0].id: must be a whole number or a string of 1 to 200 characters",
    ),
    (ours(msg(), title="t" * 201), "title: String should have at most 200 characters"),
    (chatgpt({"a" * 201: node()}), "mapping"),
]


@pytest.mark.parametrize(("content", "reason"), MALFORMED, ids=[r for _, r in MALFORMED])
def test_every_malformed_file_is_refused_with_its_reason(client, user, content, reason):
    assert_refused(client, user, content, reason)


def test_a_malformed_file_leaves_the_account_working(client, user):
    # Once, tool_calls of the wrong type were saved: exports answered 500 afterwards.
    assert_refused(client, user, ours(msg(role="assistant", tool_calls="x")), "tool_calls")
    good = ours(
        msg(1, content="2+2?"),
        msg(
            2,
            1,
            role="assistant",
            content="",
            tool_calls=[{"id": "t", "name": "calculator", "arguments": "{}"}],
        ),
        msg(3, 2, role="tool", content="4", tool_call_id="t", tool_name="calculator"),
        msg(4, 3, role="assistant", content="Four."),
    )
    assert post(client, user, good).status_code == 302
    (conversation,) = Conversation.objects.all()
    assert client.get(f"/conversations/{conversation.pk}/export.json").status_code == 200
    assert client.get("/export/all.json").status_code == 200
    assert client.get(f"/conversations/{conversation.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("setting", "value", "content", "reason", "status"),
    [
        ("CHAT_IMPORT_MAX_CONVERSATIONS", 2, "three", "holds 3 conversations; at most 2", 400),
        ("CHAT_IMPORT_MAX_MESSAGES", 5, "three", "holds 6 messages; at most 5", 400),
        ("CHAT_IMPORT_MAX_BYTES", 100, "three", "The file is larger than 0.0001 MB.", 413),
    ],
)
def test_files_over_the_limits_are_refused(
    client, user, settings, setting, value, content, reason, status
):
    setattr(settings, setting, value)
    one = json.loads(ours(msg(1), msg(2, 1, role="assistant")))
    three = json.dumps(
        {"format": "chatsite.export", "version": 1, "conversations": [one, one, one]}
    ).encode()
    assert_refused(client, user, three, reason, status)


def test_a_chatgpt_conversation_with_nothing_visible_is_skipped(user):
    data = json.dumps(
        [
            {"title": "Empty", "mapping": {"root": node(text=None)}},
            {
                "title": "Real",
                "mapping": {"root": node(text=None, children=["q"]), "q": node("root")},
            },
        ]
    ).encode()
    (conversation,) = importing.import_file(user=user, data=data)
    assert conversation.title == "Real" and conversation.messages.get().parent is None


START = datetime(2024, 1, 1, tzinfo=UTC)


def chain(size: int, word: str = "meadow") -> dict:
    return {
        "format": "chatsite.conversation",
        "title": "Long",
        "tree": [
            msg(
                i,
                i - 1 if i else None,
                role="user" if i % 2 == 0 else "assistant",
                content=f"message {i} about a {word}",
                created_at=(START + timedelta(seconds=i)).isoformat(),
            )
            for i in range(size)
        ],
    }


def test_a_long_import_is_saved_in_bulk_and_indexed_for_search(user, django_assert_max_num_queries):
    # One query per message (or worse) made a 30,000-message chain take 65 s.
    with django_assert_max_num_queries(150):
        (conversation,) = importing.import_file(
            user=user, data=json.dumps(chain(2000, word="zeppelin")).encode()
        )
    branch = selectors.message_branch(conversation=conversation)
    assert len(branch) == 2000 and branch[-1].content == "message 1999 about a zeppelin"
    assert [m.parent_id for m in branch[1:4]] == [m.pk for m in branch[:3]]
    assert branch[65].created_at == START + timedelta(seconds=65)
    hits = search.conversation_search(user_id=user.pk, query="zeppelin")
    assert [h["conversation"] for h in hits] == [conversation.pk]
    assert export.export_conversation(conversation)["tree"][1999]["parent"] == branch[1998].pk


def test_a_file_out_of_order_is_saved_parents_first(user):
    data = ours(
        msg(3, 2, content="c"), msg(1, None, content="a"), msg(2, 1, content="b"), current=3
    )
    (conversation,) = importing.import_file(user=user, data=data)
    assert [m.content for m in selectors.message_branch(conversation=conversation)] == [
        "a",
        "b",
        "c",
    ]


def _failing_trigger(word: str) -> tuple[str, str]:
    """SQL making the database itself refuse to save a message containing `word`."""
    if connection.vendor == "postgresql":
        return (
            f"""CREATE FUNCTION refuse_word() RETURNS trigger AS $$ BEGIN
                IF NEW.content LIKE '%{word}%' THEN RAISE EXCEPTION 'refused'; END IF;
                RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_word BEFORE INSERT ON conversations_message
                FOR EACH ROW EXECUTE FUNCTION refuse_word();""",
            "DROP TRIGGER refuse_word ON conversations_message; DROP FUNCTION refuse_word();",
        )
    return (
        f"""CREATE TRIGGER refuse_word BEFORE INSERT ON conversations_message
            WHEN NEW.content LIKE '%{word}%' BEGIN SELECT RAISE(ABORT, 'refused'); END""",
        "DROP TRIGGER refuse_word",
    )


@pytest.mark.django_db(transaction=True)
def test_a_conversation_the_database_refuses_stops_the_import_and_says_which(client, user):
    create, drop = _failing_trigger("kaboom")
    with connection.cursor() as cursor:
        cursor.execute(create)
    try:
        conversations = [
            json.loads(ours(msg(content=text), title=text))
            for text in ("one", "two kaboom", "three")
        ]
        document = {"format": "chatsite.export", "version": 1, "conversations": conversations}
        client.force_login(user)
        response = client.post(
            "/import/", {"file": SimpleUploadedFile("f.json", json.dumps(document).encode())}
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(drop)
    assert response.status_code == 500
    assert "Conversation 2 (“two kaboom”) could not be saved" in response.content.decode()
    assert "1 of 3 conversations were imported" in response.content.decode()
    # The first is whole; nothing of the second (no half-saved conversation) or the third.
    (saved,) = Conversation.objects.all()
    assert saved.title == "one" and [m.content for m in saved.messages.all()] == ["one"]
    assert Message.objects.count() == 1
