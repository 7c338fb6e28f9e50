"""Tags over the websocket (chat/tag_actions.py): set, rename, delete, live in every tab;
someone else's conversation or tag is not_found, by id or by name."""

import pytest
from channels.db import database_sync_to_async as db

from conversations.chat import tag_actions  # noqa: F401 - the module these frames reach
from conversations.models import Conversation
from conversations.tags.models import Tag
from tests.helpers import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def tag_names(conversation_id):
    return sorted(Tag.objects.filter(conversations=conversation_id).values_list("name", flat=True))


async def test_set_rename_delete_reach_every_tab(connect, user):
    conversation = await db(Conversation.objects.create)(owner=user, title="Plans")
    ws = await open_socket(connect, user)
    tab2 = await open_socket(connect, user)

    await ws.send_json_to(
        {"type": "conversation.tags", "conversation": conversation.pk, "tags": ["Work", " home "]}
    )
    updated = await tab2.receive_json_from()
    assert updated["type"] == "conversation.updated" and updated["tags"] == ["home", "Work"]
    changed = await tab2.receive_json_from()
    assert changed["type"] == "tags.changed"
    assert [(t["name"], t["count"]) for t in changed["tags"]] == [("home", 1), ("Work", 1)]
    assert changed["renamed"] is None and changed["deleted"] is None
    work = next(t for t in changed["tags"] if t["name"] == "Work")

    await ws.send_json_to({"type": "tag.rename", "tag": work["id"], "name": "office"})
    changed = await tab2.receive_json_from()
    assert changed["renamed"] == {"old": "Work", "new": "office"}
    assert await db(tag_names)(conversation.pk) == ["home", "office"]

    await ws.send_json_to({"type": "tag.delete", "tag": work["id"]})
    changed = await tab2.receive_json_from()
    assert changed["deleted"] == "office" and [t["name"] for t in changed["tags"]] == ["home"]
    assert await db(tag_names)(conversation.pk) == ["home"]


async def test_refusals_say_why_and_change_nothing(connect, user, settings):
    settings.CHAT_MAX_TAGS_PER_CONVERSATION = 2
    conversation = await db(Conversation.objects.create)(owner=user, title="Plans")
    ws = await open_socket(connect, user)
    for tags, words in (
        (["a", "b", "c"], "at most 2 tags"),
        (["a:b"], "letters, digits"),
        ("work", "'tags' must be a list"),
        ([1], "'tags' must be a list"),
    ):
        await ws.send_json_to(
            {"type": "conversation.tags", "conversation": conversation.pk, "tags": tags}
        )
        error = await ws.receive_json_from()
        assert error["code"] == "bad_request" and words in error["message"], error
    assert await db(tag_names)(conversation.pk) == []


async def test_another_users_conversation_and_tags_are_not_found(connect, user, other_user):
    theirs = await db(Conversation.objects.create)(owner=other_user, title="Theirs")
    their_tag = await db(Tag.objects.create)(owner=other_user, name="secret", key="secret")
    await db(their_tag.conversations.add)(theirs)
    mine = await db(Conversation.objects.create)(owner=user, title="Mine")
    ws = await open_socket(connect, user)

    frames = [
        {"type": "conversation.tags", "conversation": theirs.pk, "tags": ["mine now"]},
        {"type": "tag.rename", "tag": their_tag.pk, "name": "pwned"},
        {"type": "tag.delete", "tag": their_tag.pk},
        {"type": "tag.rename", "tag": 999_999, "name": "missing"},
    ]
    answers = []
    for frame in frames:
        await ws.send_json_to(frame)
        answers.append(await ws.receive_json_from())
    assert [a["code"] for a in answers] == ["not_found"] * 4
    # A missing tag and someone else's read exactly alike.
    assert answers[1]["message"] == answers[3]["message"]

    # By name: "secret" on my conversation is a new tag of mine, never theirs.
    await ws.send_json_to(
        {"type": "conversation.tags", "conversation": mine.pk, "tags": ["secret"]}
    )
    updated = await ws.receive_json_from()
    changed = await ws.receive_json_from()
    assert updated["tags"] == ["secret"]
    assert [t["count"] for t in changed["tags"]] == [1]
    assert changed["tags"][0]["id"] != their_tag.pk
    their_tag = await db(Tag.objects.get)(pk=their_tag.pk)
    assert their_tag.name == "secret"
    assert await db(tag_names)(theirs.pk) == ["secret"]
    assert await db(lambda: list(their_tag.conversations.values_list("pk", flat=True)))() == [
        theirs.pk
    ]
