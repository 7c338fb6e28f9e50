"""The app's pages and JSON endpoints: each name reaches its view, and only sign-up, the
health check and the code stylesheet answer someone not signed in."""

import pytest
from django.urls import resolve, reverse

from conversations.web import urls

pytestmark = pytest.mark.django_db
OPEN = {"signup", "healthz", "highlight-css"}
JSON = {"models-json"}  # Scripts' endpoints: 401, not a sign-in page.
# Scripts' endpoints of other methods than GET, each asked with its own.
JSON_METHODS = {
    "file-upload": "post",
    "file-remove": "delete",
    "share-create": "post",
    "share-revoke": "post",
    "share-delete": "delete",
}
# A shared conversation's pages (/s/<token>) are open to whoever holds a live token; any
# other answers 404 (tests/sharing/test_views.py).
SHARED = {"shared-page", "shared-continue", "shared-file", "shared-file-view"}


def url_of(pattern) -> str:
    return reverse(pattern.name, args=[1] * len(pattern.pattern.converters))


def test_each_name_reaches_its_view():
    for pattern in urls.urlpatterns:
        assert resolve(url_of(pattern)).func is pattern.callback, pattern.name


def test_only_the_open_pages_answer_without_a_sign_in(client):
    for pattern in urls.urlpatterns:
        if pattern.name in OPEN:
            continue
        url = url_of(pattern)
        if pattern.name in SHARED:
            assert client.get(url).status_code == 404, url
            continue
        response = getattr(client, JSON_METHODS.get(pattern.name, "get"))(url)
        if pattern.name in JSON or pattern.name in JSON_METHODS:
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, url
            assert response["Location"] == f"/accounts/login/?next={url}"
    for name in OPEN - {"healthz"}:  # healthz: tests/web/test_health.py.
        assert client.get(reverse(name)).status_code == 200, name
