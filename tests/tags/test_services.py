"""Writes for tags: set, rename, delete; bounds; one tag per name per user; never
another user's tag."""

import pytest

from conversations.errors import TurnRefused
from conversations.models import Conversation
from conversations.tags import selectors, services
from conversations.tags.models import Tag

pytestmark = pytest.mark.django_db


def names_of(conversation):
    return selectors.conversation_tag_names(Conversation.objects.get(pk=conversation.pk))


def test_set_makes_exactly_these_tags_and_reuses_the_owners(user):
    a = Conversation.objects.create(owner=user, title="A")
    b = Conversation.objects.create(owner=user, title="B")
    services.conversation_set_tags(conversation=a, names_given=["Work", " budget ", "work"])
    services.conversation_set_tags(conversation=b, names_given=["WORK"])
    assert names_of(a) == ["budget", "Work"]
    assert names_of(b) == ["Work"]  # The same tag, in the case it was first written.
    assert Tag.objects.filter(owner=user).count() == 2
    services.conversation_set_tags(conversation=a, names_given=[])
    assert names_of(a) == []
    assert Tag.objects.filter(owner=user).count() == 2  # Unused tags stay until deleted.


def test_another_users_tag_of_the_same_name_is_never_attached(user, other_user):
    theirs = Conversation.objects.create(owner=other_user, title="Theirs")
    services.conversation_set_tags(conversation=theirs, names_given=["secret"])
    mine = Conversation.objects.create(owner=user, title="Mine")
    services.conversation_set_tags(conversation=mine, names_given=["secret"])
    their_tag = Tag.objects.get(owner=other_user)
    my_tag = Tag.objects.get(owner=user)
    assert my_tag.pk != their_tag.pk
    assert list(their_tag.conversations.all()) == [theirs]
    assert selectors.tag_get(user=user, tag_id=their_tag.pk) is None


def test_bounds_per_conversation_and_per_user(user, settings):
    settings.CHAT_MAX_TAGS_PER_CONVERSATION = 3
    settings.CHAT_MAX_TAGS_PER_USER = 4
    c = Conversation.objects.create(owner=user, title="C")
    with pytest.raises(TurnRefused) as refused:
        services.conversation_set_tags(conversation=c, names_given=["a", "b", "c", "d"])
    assert refused.value.code == "bad_request" and "at most 3" in refused.value.message
    services.conversation_set_tags(conversation=c, names_given=["a", "b", "c"])
    d = Conversation.objects.create(owner=user, title="D")
    services.conversation_set_tags(conversation=d, names_given=["d"])
    with pytest.raises(TurnRefused) as refused:
        services.conversation_set_tags(conversation=d, names_given=["d", "e"])
    assert "the most one may keep" in refused.value.message
    assert names_of(d) == ["d"]  # Refused whole: nothing changed.
    with pytest.raises(TurnRefused):
        services.conversation_set_tags(conversation=d, names_given=["x"] * 101)


def test_bad_names_are_refused_whole(user):
    c = Conversation.objects.create(owner=user, title="C")
    services.conversation_set_tags(conversation=c, names_given=["keep"])
    with pytest.raises(TurnRefused) as refused:
        services.conversation_set_tags(conversation=c, names_given=["fine", "no:colons"])
    assert "letters, digits" in refused.value.message
    assert names_of(c) == ["keep"]
    assert not Tag.objects.filter(key="fine").exists()


def test_rename_and_delete(user):
    c = Conversation.objects.create(owner=user, title="C")
    services.conversation_set_tags(conversation=c, names_given=["work", "home"])
    work = Tag.objects.get(owner=user, key="work")
    services.tag_rename(tag=work, name="  Office ")
    assert names_of(c) == ["home", "Office"]
    services.tag_rename(tag=work, name="OFFICE")  # Its own name in another case: fine.
    with pytest.raises(TurnRefused) as refused:
        services.tag_rename(tag=work, name="Home")
    assert "already have a tag" in refused.value.message
    services.tag_delete(tag=work)
    assert names_of(c) == ["home"]
    assert Conversation.objects.filter(pk=c.pk).exists()


def test_tag_list_counts_conversations_of_the_owner_only(user, other_user):
    a = Conversation.objects.create(owner=user, title="A")
    b = Conversation.objects.create(owner=user, title="B", archived=True)
    services.conversation_set_tags(conversation=a, names_given=["work", "idle"])
    services.conversation_set_tags(conversation=b, names_given=["work"])
    services.conversation_set_tags(conversation=a, names_given=["work"])
    other = Conversation.objects.create(owner=other_user, title="O")
    services.conversation_set_tags(conversation=other, names_given=["theirs"])
    listed = selectors.tag_list(user_id=user.pk)
    assert [(t["name"], t["count"]) for t in listed] == [("idle", 0), ("work", 2)]


def test_imported_tags_keep_within_the_bounds(user, settings):
    settings.CHAT_MAX_TAGS_PER_USER = 2
    c = Conversation.objects.create(owner=user, title="C")
    services.conversation_add_imported_tags(conversation=c, names_given=["a", "A", "b", "c"])
    assert names_of(c) == ["a", "b"]
