"""Invites in the admin: each shows its state, and once made cannot be changed (only its
hash is kept: it is deleted and made again)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.accounts import services as account_services
from conversations.accounts.models import Invite

pytestmark = pytest.mark.django_db
URL = "/admin/conversations/invite/"


def test_the_list_shows_each_invites_state(admin_client, admin_user, user):
    account_services.invite_create(created_by=admin_user, note="open one")
    account_services.invite_create(
        created_by=admin_user, note="late one", expires_at=timezone.now() - timedelta(days=1)
    )
    used, _ = account_services.invite_create(created_by=admin_user, note="used one")
    Invite.objects.filter(pk=used.pk).update(used_by=user, used_at=timezone.now())
    page = admin_client.get(URL).content.decode()
    for note, state in (("open one", "open"), ("late one", "expired"), ("used one", "used")):
        row = page.split(note, 1)[1].split("</tr>", 1)[0]
        assert f'<td class="field-state">{state}</td>' in row, note


def test_an_invite_cannot_be_changed(admin_client, admin_user):
    invite, _ = account_services.invite_create(created_by=admin_user, note="for ann")
    page = admin_client.get(f"{URL}{invite.pk}/change/")
    assert page.status_code == 200 and 'name="note"' not in page.content.decode()
    response = admin_client.post(
        f"{URL}{invite.pk}/change/", {"note": "for someone else", "expires_at_0": "2099-01-01"}
    )
    assert response.status_code == 403
    invite.refresh_from_db()
    assert invite.note == "for ann"
    assert admin_client.get(f"{URL}add/").status_code == 200  # Making new ones still works.
