"""The leaderboard's reads: choices as the fit takes them, each filter, temporary chats
left out, and a viewer who is not staff filtering by their own tags and projects only,
with other users' private personas unnamed."""

import datetime as dt

import pytest
from django.utils import timezone

from conversations.compare import leaderboard_selectors as board
from conversations.compare.leaderboard import Choice
from conversations.compare.leaderboard_selectors import Filters
from conversations.compare.models import Preference
from conversations.models import Conversation
from conversations.personas.models import Persona
from conversations.projects.models import Project
from conversations.tags.models import Tag
from tests.compare.builders import compare
from tests.review.builders import chat

pytestmark = pytest.mark.django_db


def staff_choices(**filters) -> list[Choice]:
    return board.choices(filters=Filters(**filters), viewer_id=None, limit=1000)


def tag(owner, name: str, conversation: Conversation) -> Tag:
    found = Tag.objects.create(owner=owner, name=name, key=name.casefold())
    found.conversations.add(conversation)
    return found


def test_each_choice_names_its_replies_in_slot_order_and_its_winner(user):
    compare(user, ["m/a", "m/b", "m/c"], chosen=2)
    compare(user, ["m/a", "m/b"], verdict="tie", chosen=1)
    compare(user, ["m/b", "m/c"], verdict="both_bad", chosen=0)
    assert staff_choices() == [
        Choice(("m/b", "m/c"), None),
        Choice(("m/a", "m/b"), None),
        Choice(("m/a", "m/b", "m/c"), 2),
    ]


def test_a_persona_names_its_contestant(user):
    editor = Persona.objects.create(owner=None, name="Editor", model="m/a")
    compare(user, ["m/a", "m/a"], personas=[editor, None], chosen=1)
    assert staff_choices() == [Choice(("Editor · m/a", "m/a"), 1)]


def test_temporary_chats_never_count(user):
    kept = compare(user, ["m/a", "m/b"])
    gone = compare(user, ["m/c", "m/d"])
    Conversation.objects.filter(pk=gone.conversation_id).update(temporary=True)
    assert staff_choices() == [Choice(("m/a", "m/b"), 0)]
    assert kept.conversation_id != gone.conversation_id


def test_only_the_newest_choices_up_to_the_limit(user):
    compare(user, ["m/old", "m/b"])
    compare(user, ["m/new", "m/b"])
    found = board.choices(filters=Filters(), viewer_id=None, limit=1)
    assert found == [Choice(("m/new", "m/b"), 0)]


def test_filters_by_persona_date_tag_and_project_across_users(user, other_user):
    editor = Persona.objects.create(owner=None, name="Editor", model="m/a")
    with_persona = compare(other_user, ["m/a", "m/b"], personas=[editor, None])
    tagged = compare(user, ["m/t", "m/b"])
    tag(user, "Work", tagged.conversation)
    in_project = compare(other_user, ["m/p", "m/b"])
    project = Project.objects.create(owner=other_user, name="Launch")
    Conversation.objects.filter(pk=in_project.conversation_id).update(project=project)
    old = compare(user, ["m/old", "m/b"])
    Preference.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))

    assert staff_choices(persona="Editor") == [Choice(("Editor · m/a", "m/b"), 0)]
    assert staff_choices(tag="work") == [Choice(("m/t", "m/b"), 0)]
    assert staff_choices(project="launch") == [Choice(("m/p", "m/b"), 0)]
    today = timezone.now().date()
    assert Choice(("m/old", "m/b"), 0) not in staff_choices(since=today - dt.timedelta(days=2))
    assert staff_choices(until=today - dt.timedelta(days=5)) == [Choice(("m/old", "m/b"), 0)]
    assert with_persona.pk  # Staff's lists offer every user's names.
    assert board.persona_options(viewer_id=None) == ["Editor"]
    assert board.tag_options(viewer_id=None) == [("work", "Work")]
    assert board.project_options(viewer_id=None) == ["Launch"]


def test_a_viewer_filters_by_their_own_tags_and_projects_only(user, other_user):
    theirs = compare(other_user, ["m/a", "m/b"])
    tag(other_user, "Secret", theirs.conversation)
    project = Project.objects.create(owner=other_user, name="Hidden")
    Conversation.objects.filter(pk=theirs.conversation_id).update(project=project)
    mine = compare(user, ["m/c", "m/d"])
    tag(user, "Mine", mine.conversation)

    def seen(**filters):
        return board.choices(filters=Filters(**filters), viewer_id=user.pk, limit=100)

    # Another user's tag or project, even by its exact name, filters down to nothing.
    assert seen(tag="secret") == []
    assert seen(project="Hidden") == []
    assert seen(tag="mine") == [Choice(("m/c", "m/d"), 0)]
    # The unfiltered board counts everyone's choices.
    assert len(seen()) == 2
    assert board.tag_options(viewer_id=user.pk) == [("mine", "Mine")]
    assert board.project_options(viewer_id=user.pk) == []


def test_no_one_but_its_owner_sees_a_private_personas_name(user, other_user):
    private = Persona.objects.create(owner=other_user, name="Their secret", model="m/a")
    shared = Persona.objects.create(owner=None, name="Shared", model="m/a")
    own = Persona.objects.create(owner=user, name="My own", model="m/a")
    compare(other_user, ["m/a", "m/a"], personas=[private, shared])
    compare(user, ["m/a", "m/b"], personas=[own, None])
    found = board.choices(filters=Filters(), viewer_id=user.pk, limit=100)
    assert found == [
        Choice(("My own · m/a", "m/b"), 0),
        Choice(("private persona · m/a", "Shared · m/a"), 0),
    ]
    assert board.choices(filters=Filters(persona="Their secret"), viewer_id=user.pk, limit=9) == []
    offered = board.persona_options(viewer_id=user.pk)
    assert {"My own", "Shared"} <= set(offered) and "Their secret" not in offered
    # Nor do staff, as on the review dashboard; a deleted persona's kept name they do.
    assert Choice(("private persona · m/a", "Shared · m/a"), 0) in staff_choices()
    assert "Their secret" not in board.persona_options(viewer_id=None)
    shared.delete()
    assert Choice(("private persona · m/a", "Shared · m/a"), 0) in staff_choices()
    assert Choice(("private persona · m/a", "private persona · m/a"), 0) in board.choices(
        filters=Filters(), viewer_id=user.pk, limit=100
    )


def test_a_winner_whose_reply_is_gone_is_left_out(user):
    chosen = compare(user, ["m/a", "m/b"])
    Preference.objects.filter(pk=chosen.pk).update(chosen=None)
    assert staff_choices() == []
    assert chat(user).pk  # Conversations without compares add nothing.
    assert staff_choices() == []


def test_blind_choices_only_when_asked(user):
    seen = compare(user, ["m/seen", "m/b"])
    blind = compare(user, ["m/blind", "m/b"])
    Preference.objects.filter(pk=blind.pk).update(blind=True)
    assert staff_choices(blind_only=True) == [Choice(("m/blind", "m/b"), 0)]
    assert len(staff_choices()) == 2 and seen.pk
