"""The users' side of review: ratings and reports for scripts (401 without a sign-in), the
privacy page and its opt-out for people (sent to sign in)."""

import pytest
from django.urls import resolve, reverse

from conversations.review import urls

pytestmark = pytest.mark.django_db
JSON = {"feedback", "report"}


def url_of(pattern) -> str:
    return reverse(pattern.name, args=[1] * len(pattern.pattern.converters))


def test_each_name_reaches_its_view():
    for pattern in urls.urlpatterns:
        assert resolve(url_of(pattern)).func is pattern.callback, pattern.name


def test_nothing_answers_without_a_sign_in(client):
    for pattern in urls.urlpatterns:
        url = url_of(pattern)
        response = client.get(url)
        if pattern.name in JSON:
            assert response.status_code == 401, url
            assert response.json()["error"] == "unauthorized"
        else:
            assert response.status_code == 302, url
            assert response["Location"] == f"/accounts/login/?next={url}"
