"""Review's pages inside the admin: each under /admin/review/, each closed to anyone who is
not staff (sent to the admin's sign-in), and the transcript's actions taken only by POST."""

import pytest
from django.urls import resolve, reverse

from conversations.review import admin_urls

pytestmark = pytest.mark.django_db
ACTIONS = {"score", "note", "correction", "queue-add", "queue-update"}


def url_of(pattern) -> str:
    return reverse(f"review:{pattern.name}", args=[1] * len(pattern.pattern.converters))


def test_each_name_is_a_page_under_the_admin():
    for pattern in admin_urls.urlpatterns:
        url = url_of(pattern)
        assert url.startswith("/admin/review/") and resolve(url).func is pattern.callback


def test_no_page_answers_anyone_but_staff(client, user):
    for who in (None, user):
        if who is not None:
            client.force_login(who)
        for pattern in admin_urls.urlpatterns:
            url = url_of(pattern)
            for response in (client.get(url), client.post(url)):
                assert response.status_code == 302, (who, url)
                assert response["Location"] == f"/admin/login/?next={url}"


def test_the_transcripts_actions_are_posts(client, reviewer):
    client.force_login(reviewer)
    for pattern in admin_urls.urlpatterns:
        if pattern.name in ACTIONS:
            assert client.get(url_of(pattern)).status_code == 405, pattern.name
