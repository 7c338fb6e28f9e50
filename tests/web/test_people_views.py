"""The Users and groups page's views (conversations/web/people_views.py): the admin's
sign-in first, then the permission; bad query values are ignored, never a server error;
"sign out everywhere" goes back only to this site."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from conversations.web import people_views

pytestmark = pytest.mark.django_db


def staff(django_user_model, name: str, *codenames: str):
    member = django_user_model.objects.create_user(
        username=name, password="pw-x-12345", is_staff=True
    )
    member.user_permissions.set(
        Permission.objects.filter(content_type__app_label="auth", codename__in=codenames)
    )
    client = Client()
    client.force_login(member)
    return member, client


def test_signed_out_visitors_go_to_the_admins_sign_in(client):
    response = client.get("/admin/people/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_the_permission_are_refused(django_user_model):
    _, client = staff(django_user_model, "nope")
    assert client.get("/admin/people/").status_code == 403


@pytest.mark.parametrize("query", ["?group=abc", "?page=zz", "?page=-4", "?q=" + "x" * 5000])
def test_bad_query_values_are_ignored(django_user_model, query):
    _, client = staff(django_user_model, "viewer", "view_user")
    assert client.get("/admin/people/" + query).status_code == 200


def test_signing_out_goes_back_only_to_this_site(django_user_model, user):
    _, client = staff(django_user_model, "changer", "view_user", "change_user")
    response = client.post(f"/admin/people/{user.pk}/sign-out", {"next": "https://evil.example/"})
    assert response["Location"] == "/admin/people/"


def test_a_missing_user_is_not_found_and_reading_is_not_changing(django_user_model, user):
    _, viewer = staff(django_user_model, "viewer", "view_user")
    assert viewer.post(f"/admin/people/{user.pk}/sign-out").status_code == 403
    _, changer = staff(django_user_model, "changer", "view_user", "change_user")
    assert changer.post("/admin/people/999999/sign-out").status_code == 404


def test_int_reads_only_integers():
    assert people_views._int("7") == 7
    assert people_views._int("x") is None and people_views._int(None) is None
