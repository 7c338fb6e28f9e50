"""Sessions that know whose they are (accounts/sessions.py): every sign-in has its row,
sessions signed in before the row existed get one when the database is migrated, and
the row goes with its session."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from conversations.accounts.models import SignIn

pytestmark = pytest.mark.django_db(transaction=True)


def old_session(user) -> str:
    """A session signed in as Django made them before SignIn existed."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def test_migrating_gives_the_sessions_already_signed_in_their_rows(user, other_user):
    executor = MigrationExecutor(connection)
    executor.migrate([("conversations", "0015_access_rules")])
    try:
        theirs = [old_session(user), old_session(user), old_session(other_user)]
        anonymous = SessionStore()
        anonymous["theme"] = "dark"
        anonymous.create()
    finally:
        call_command("migrate", "conversations", verbosity=0)
    rows = dict(SignIn.objects.values_list("session_id", "user_id"))
    assert rows == {theirs[0]: user.pk, theirs[1]: user.pk, theirs[2]: other_user.pk}


def test_a_sign_in_is_recorded_and_goes_with_its_session(user):
    client = Client()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    assert SignIn.objects.get(user=user).session_id == key
    Session.objects.filter(pk=key).delete()  # Expired and cleared, say.
    assert not SignIn.objects.exists()


def test_signing_in_over_another_users_session_moves_it_to_the_new_user(user, other_user):
    client = Client()
    client.force_login(user)
    client.force_login(other_user)  # Django flushes the first user's session.
    assert list(SignIn.objects.values_list("user_id", flat=True)) == [other_user.pk]
    assert SignIn.objects.get().session_id == client.cookies["sessionid"].value
