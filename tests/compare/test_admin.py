"""Compare settings in the admin: one row, made on first opening, changed but never added
to or deleted."""

import pytest

from conversations.compare.models import CompareSettings

pytestmark = pytest.mark.django_db

URL = "/admin/conversations/comparesettings/"


def test_the_list_opens_the_one_row_made_on_first_opening(client, boss):
    client.force_login(boss)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}1/change/"
    assert CompareSettings.objects.get().pk == 1
    client.post(f"{URL}1/change/", {"blind_by_default": "on"})
    assert CompareSettings.objects.get(pk=1).blind_by_default is True
    # Opening it again keeps it as it is.
    client.get(URL)
    assert CompareSettings.objects.count() == 1 and CompareSettings.objects.get().blind_by_default


def test_no_second_row_and_no_deleting(client, boss):
    client.force_login(boss)
    client.get(URL)
    assert client.get(f"{URL}add/").status_code == 403
    assert client.post(f"{URL}1/delete/", {"post": "yes"}).status_code == 403
    assert CompareSettings.objects.count() == 1


def test_staff_without_the_permission_are_refused(client, staff):
    client.force_login(staff)
    assert client.get(URL).status_code == 403
    assert not CompareSettings.objects.exists()
