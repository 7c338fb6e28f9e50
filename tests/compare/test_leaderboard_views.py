"""Everyone's leaderboard page: off (404) unless CHAT_LEADERBOARD_PUBLIC, signed-in users
only, and its filters offer the viewer's own tags and projects, never another user's."""

import pytest

from conversations.projects.models import Project
from conversations.tags.models import Tag
from tests.compare.builders import compare

pytestmark = pytest.mark.django_db


def test_the_page_is_missing_unless_made_public(client, user, settings):
    settings.CHAT_LEADERBOARD_PUBLIC = False
    client.force_login(user)
    assert client.get("/leaderboard/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, settings):
    settings.CHAT_LEADERBOARD_PUBLIC = True
    response = client.get("/leaderboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_sees_the_table_and_only_their_own_filters(client, user, other_user, settings):
    settings.CHAT_LEADERBOARD_PUBLIC = True
    theirs = compare(other_user, ["m/a", "m/b"])
    secret = Tag.objects.create(owner=other_user, name="Secret plans", key="secret plans")
    secret.conversations.add(theirs.conversation)
    Project.objects.create(owner=other_user, name="Hidden project")
    Tag.objects.create(owner=user, name="Mine", key="mine")
    compare(user, ["m/a", "m/b"], chosen=1)
    client.force_login(user)
    page = client.get("/leaderboard/").content.decode()
    assert "<table" in page and "m/a" in page and "m/b" in page
    assert "2 choices counted" in page
    assert "Mine" in page
    assert "Secret plans" not in page and "Hidden project" not in page
    # Another user's tag, asked for by its key, is no choice the form offers.
    response = client.get("/leaderboard/", {"tag": "secret plans"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_bad_filters_show_the_whole_board_with_the_errors(client, user, settings):
    settings.CHAT_LEADERBOARD_PUBLIC = True
    compare(user, ["m/a", "m/b"])
    client.force_login(user)
    page = client.get("/leaderboard/", {"since": "yesterday-ish"}).content.decode()
    assert "1 choice counted" in page
    assert "Enter a valid date" in page


def test_a_table_is_fitted_again_only_when_a_choice_changes(client, user, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.CHAT_LEADERBOARD_PUBLIC = True
    first = compare(user, ["m/a", "m/b"])
    client.force_login(user)

    def load() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as ctx:
            page = client.get("/leaderboard/").content.decode()
        return page, len(ctx.captured_queries)

    page, fitted = load()
    assert "1 choice counted" in page
    again, cached = load()
    assert cached < fitted and again.split("<table")[1] == page.split("<table")[1]
    compare(user, ["m/a", "m/c"])
    assert "2 choices counted" in load()[0]
    first.verdict = "tie"
    first.save()  # A choice changed: its newer time says so.
    assert "0 / 1 / 0" in load()[0]


def test_settings_link_to_the_leaderboard_only_when_it_is_public(client, user, settings):
    client.force_login(user)
    settings.CHAT_LEADERBOARD_PUBLIC = False
    assert 'href="/leaderboard/"' not in client.get("/settings/").content.decode()
    settings.CHAT_LEADERBOARD_PUBLIC = True
    assert 'href="/leaderboard/"' in client.get("/settings/").content.decode()
