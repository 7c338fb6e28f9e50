"""The pages' two-factor gate: a session that owes its user's second factor is signed out;
staff who must enrol reach only enrolment (and signing out) until they have a factor."""

import json
import time

import pytest
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from allauth.mfa.models import Authenticator
from django.urls import URLResolver, get_resolver

from conversations.web.two_factor_gate import ENROLMENT_VIEWS

pytestmark = pytest.mark.django_db

MFA = "/accounts/2fa/"


def enrol(user) -> None:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


def mark_verified(client, user_id: int) -> None:
    """The session's sign-in showed a second factor, for the account `user_id`."""
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "username": "x"},
        {"method": "mfa", "at": time.time(), "type": "totp"},
    ]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user_id)
    session.save()


def signed_in(client) -> bool:
    return client.get("/settings/").status_code == 200


def test_a_session_that_never_showed_its_users_factor_is_signed_out(client, user):
    client.force_login(user)
    assert signed_in(client)
    enrol(user)  # On another device.
    response = client.get("/settings/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "Sign in again: your account now asks for a second factor." in (
        response.content.decode()
    )
    assert not response.wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("page", [MFA, "/models.json", "/admin/"])
def test_no_page_is_open_to_a_session_that_owes_its_factor(client, user, page):
    enrol(user)
    client.force_login(user)
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not signed_in(client)


def test_a_session_that_showed_the_factor_goes_on(client, user):
    enrol(user)
    client.force_login(user)
    mark_verified(client, user.pk)
    assert signed_in(client)
    assert client.get("/").status_code == 200
    assert client.get(MFA).status_code == 200


def test_another_accounts_mark_does_not_count(client, user, other_user):
    enrol(user)
    client.force_login(user)
    mark_verified(client, other_user.pk)
    assert not signed_in(client)


@pytest.fixture
def must_enrol(settings):
    settings.CHAT_REQUIRE_2FA_FOR_STAFF = True


def test_staff_without_a_factor_are_sent_to_enrolment(client, staff, must_enrol):
    client.force_login(staff)
    for page in ("/", "/settings/", "/admin/", "/accounts/2fa/totp/deactivate/"):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == MFA, page
    shown = client.get("/settings/", follow=True)
    assert "Staff accounts must set up two-factor sign-in first." in shown.content.decode()
    # A page's data is refused as data.
    data = client.get("/models.json")
    assert data.status_code == 403
    assert json.loads(data.content) == {"error": "two_factor_required"}
    # Still signed in: only held back.
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_staff_who_must_enrol_reach_enrolment_and_signing_out(client, staff, must_enrol):
    client.force_login(staff)
    assert client.get(MFA).status_code == 200
    assert client.get(f"{MFA}recovery-codes/").status_code == 200
    assert client.get("/highlight.css").status_code == 200
    # Enrolling asks for the password first: that page is open too.
    asked = client.get(f"{MFA}totp/activate/")
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/reauthenticate/")
    assert client.get(asked["Location"]).status_code == 200
    out = client.post("/accounts/logout/")
    assert out.status_code == 302 and out["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_staff_with_a_factor_and_others_are_not_held_back(client, staff, user, must_enrol):
    client.force_login(user)  # Not staff.
    assert signed_in(client)
    enrol(staff)
    client.force_login(staff)
    mark_verified(client, staff.pk)
    assert signed_in(client)


def test_without_the_rule_staff_need_no_factor(client, staff, settings):
    settings.CHAT_REQUIRE_2FA_FOR_STAFF = False
    client.force_login(staff)
    assert signed_in(client)


def test_the_signed_out_are_not_its_business(client, must_enrol):
    assert client.get("/accounts/login/").status_code == 200
    response = client.get("/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?")


def url_names(patterns) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= url_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


def test_every_enrolment_view_is_a_page_of_the_site():
    """A name that is not one would leave staff who must enrol without that page."""
    assert ENROLMENT_VIEWS <= url_names(get_resolver().url_patterns)
