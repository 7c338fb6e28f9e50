"""The theme comes from the server on the first byte: the signed-in user's setting, or for
a signed-out visitor the cookie that mirrors it; nothing else reaches the page."""

import pytest
from django.test import RequestFactory

from conversations.accounts.models import UserSettings
from conversations.web import appearance

pytestmark = pytest.mark.django_db


def request(cookie: str | None = None, user=None):
    made = RequestFactory().get("/", HTTP_COOKIE=f"theme={cookie}" if cookie else "")
    if user is not None:
        made.user = user
    return made


def test_a_visitor_gets_the_cookies_theme_and_only_a_known_one():
    assert appearance.theme(request("dark")) == {"theme": "dark"}
    assert appearance.theme(request()) == {"theme": "system"}
    assert appearance.theme(request('dark"><script>')) == {"theme": "system"}


def test_a_signed_in_user_gets_their_setting_and_it_is_to_be_remembered(user):
    UserSettings.objects.create(user=user, theme="light")
    made = request("dark", user=user)
    assert appearance.theme(made) == {"theme": "light"}
    assert made.theme_to_remember == "light"


def test_the_middleware_sets_the_cookie_only_when_it_differs(client, user):
    UserSettings.objects.create(user=user, theme="dark")
    client.force_login(user)
    cookie = client.get("/settings/").cookies["theme"]
    assert cookie.value == "dark" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "theme" not in client.get("/settings/").cookies  # The browser has it already.
