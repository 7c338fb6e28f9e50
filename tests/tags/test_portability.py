"""Tags in export and import, in account deletion (tags/cleanup.py) and in the admin
(tags/admin.py): a user's own, never another's."""

import json

import pytest

from conversations.deletion import services as deletion
from conversations.models import Conversation
from conversations.portability import export, importing
from conversations.tags import admin as tag_admin  # noqa: F401 - registers the admin page
from conversations.tags import cleanup as tag_cleanup  # noqa: F401 - registers the deletion hook
from conversations.tags import selectors, services
from conversations.tags.models import Tag

pytestmark = pytest.mark.django_db


def test_export_all_and_import_keep_each_conversations_tags(user, other_user):
    tagged = Conversation.objects.create(owner=user, title="Tagged")
    services.conversation_set_tags(conversation=tagged, names_given=["work", "two words"])
    Conversation.objects.create(owner=user, title="Bare")
    theirs = Conversation.objects.create(owner=other_user, title="Theirs")
    services.conversation_set_tags(conversation=theirs, names_given=["secret"])

    data = export.export_all(user)
    assert [(c["title"], c["tags"]) for c in data["conversations"]] == [
        ("Tagged", ["two words", "work"]),
        ("Bare", []),
    ]
    assert "secret" not in json.dumps(data)

    # Imported into another account: the tags are made for it, its own.
    imported = importing.import_file(user=other_user, data=json.dumps(data).encode())
    assert [selectors.conversation_tag_names(c) for c in imported] == [["two words", "work"], []]
    assert {t.owner_id for t in Tag.objects.filter(key="work")} == {user.pk, other_user.pk}
    assert [(t["name"], t["count"]) for t in selectors.tag_list(user_id=other_user.pk)] == [
        ("secret", 1),
        ("two words", 1),
        ("work", 1),
    ]
    # And again into the same account: the same tags, not new ones.
    importing.import_file(user=user, data=json.dumps(data).encode())
    assert [(t["name"], t["count"]) for t in selectors.tag_list(user_id=user.pk)] == [
        ("two words", 2),
        ("work", 2),
    ]


def test_older_exports_without_tags_import_and_bad_names_are_refused(user):
    one = export.export_conversation(Conversation.objects.create(owner=user, title="Old"))
    del one["tags"]
    (imported,) = importing.import_file(user=user, data=json.dumps(one).encode())
    assert selectors.conversation_tag_names(imported) == []
    one["tags"] = ["fine", "<script>"]
    with pytest.raises(importing.ImportFailed) as refused:
        importing.import_file(user=user, data=json.dumps(one).encode())
    assert "tags" in str(refused.value)


def test_deleting_the_account_deletes_its_tags_only(user, other_user):
    mine = Conversation.objects.create(owner=user, title="Mine")
    services.conversation_set_tags(conversation=mine, names_given=["work"])
    Tag.objects.create(owner=user, name="unused", key="unused")
    theirs = Conversation.objects.create(owner=other_user, title="Theirs")
    services.conversation_set_tags(conversation=theirs, names_given=["work"])
    deletion.account_delete(user=user)
    assert list(Tag.objects.values_list("owner_id", "name")) == [(other_user.pk, "work")]


def test_the_deletion_registry_deletes_the_accounts_tags_itself(user, other_user):
    """The hook does it (not only the cascade from the user's row, which comes after)."""
    from conversations.deletion import registry

    Tag.objects.create(owner=user, name="mine", key="mine")
    Tag.objects.create(owner=other_user, name="theirs", key="theirs")
    assert registry.ACCOUNT_CLEANUPS["tags"](user.pk) is None
    assert list(Tag.objects.values_list("name", flat=True)) == ["theirs"]


def test_deleting_a_conversation_leaves_its_tags(user):
    c = Conversation.objects.create(owner=user, title="C")
    services.conversation_set_tags(conversation=c, names_given=["work"])
    deletion.conversation_delete(conversation=c)
    assert [(t["name"], t["count"]) for t in selectors.tag_list(user_id=user.pk)] == [("work", 0)]


def test_staff_see_tags_in_the_admin_and_cannot_add_or_edit(client, boss, user):
    c = Conversation.objects.create(owner=user, title="Private title")
    services.conversation_set_tags(conversation=c, names_given=["work"])
    client.force_login(boss)
    page = client.get("/admin/conversations/tag/")
    assert page.status_code == 200 and b"work" in page.content
    assert client.get("/admin/conversations/tag/add/").status_code == 403
    tag = Tag.objects.get(owner=user)
    detail = client.get(f"/admin/conversations/tag/{tag.pk}/change/")
    assert detail.status_code == 200 and b"Private title" not in detail.content
