"""Reads about accounts: settings with their defaults, custom instructions, whether anyone
has signed up, and whether a session still signs its user in."""

import pytest
from django.test import Client

from conversations.accounts import selectors
from conversations.accounts.models import UserSettings

pytestmark = pytest.mark.django_db


def test_settings_are_the_defaults_until_saved(user):
    unsaved = selectors.user_settings(user=user)
    assert unsaved.pk == user.pk and unsaved._state.adding
    assert selectors.custom_instructions(user_id=user.pk) == ""
    UserSettings.objects.create(user=user, custom_instructions="Answer in French.")
    assert not selectors.user_settings(user=user)._state.adding
    assert selectors.custom_instructions(user_id=user.pk) == "Answer in French."


def test_whether_any_account_exists(django_user_model):
    assert not selectors.user_exists()
    django_user_model.objects.create_user(username="first", password="pw-first-123")
    assert selectors.user_exists()


def signed_in_session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_a_session_signs_in_its_own_user_until_the_password_changes(user, other_user):
    key = signed_in_session(user)
    assert selectors.session_signs_in(session_key=key, user_id=user.pk)
    assert not selectors.session_signs_in(session_key=key, user_id=other_user.pk)
    assert not selectors.session_signs_in(session_key=None, user_id=user.pk)
    assert not selectors.session_signs_in(session_key="no-such-session", user_id=user.pk)
    user.set_password("a-new-password-456")
    user.save()
    assert not selectors.session_signs_in(session_key=key, user_id=user.pk)


def test_a_deactivated_users_session_signs_in_no_one(user):
    key = signed_in_session(user)
    user.is_active = False
    user.save()
    assert not selectors.session_signs_in(session_key=key, user_id=user.pk)


def test_a_session_made_with_a_rotated_key_still_signs_in(user, settings):
    key = signed_in_session(user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test"
    assert selectors.session_signs_in(session_key=key, user_id=user.pk)
    settings.SECRET_KEY_FALLBACKS = []
    assert not selectors.session_signs_in(session_key=key, user_id=user.pk)
