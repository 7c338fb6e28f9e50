"""Security events in the admin log: one entry on the user's account, made by the user,
shown in the account's History in the admin."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from conversations.accounts.audit import security_log

pytestmark = pytest.mark.django_db


def test_an_event_is_one_change_entry_on_the_users_account_by_the_user(user, other_user):
    security_log(user=user, message="Added a second factor (TOTP).")
    entry = LogEntry.objects.get()
    assert entry.user_id == user.pk
    assert entry.content_type == ContentType.objects.get_for_model(user)
    assert entry.object_id == str(user.pk) and entry.object_repr == "alice"
    assert entry.action_flag == CHANGE
    assert entry.get_change_message() == "Added a second factor (TOTP)."
    security_log(user=other_user, message="A wrong second-factor code was entered.")
    assert LogEntry.objects.filter(object_id=str(user.pk)).count() == 1
    assert LogEntry.objects.get(object_id=str(other_user.pk)).user_id == other_user.pk


def test_a_long_message_is_cut_to_fit(user):
    security_log(user=user, message="x" * 2000)
    assert len(LogEntry.objects.get().change_message) == 500


def test_the_events_show_in_the_accounts_history_in_the_admin(client, boss, user):
    security_log(user=user, message="Made new recovery codes.")
    security_log(user=user, message="Signed in with a recovery code (9 left).")
    client.force_login(boss)
    page = client.get(f"/admin/auth/user/{user.pk}/history/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Made new recovery codes." in html
    assert "Signed in with a recovery code (9 left)." in html
