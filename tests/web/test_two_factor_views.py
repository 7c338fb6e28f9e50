"""Two-factor pages: what counts as a recent sign-in, the fresh sign-in that adding or
removing a factor needs (the password, or the provider for single sign-on accounts), and
the recovery codes' pages."""

import re
import time

import pytest
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import LogEntry
from django.test import RequestFactory

from conversations.accounts import recovery_codes
from conversations.accounts.models import RecoveryCode
from conversations.accounts.sessions import SessionStore
from conversations.sso.config import PROVIDER_ID
from conversations.web.two_factor_views import recently_signed_in

pytestmark = pytest.mark.django_db

MFA = "/accounts/2fa/"
# Each page that adds, removes or changes a factor, and how it is asked for.
FACTOR_CHANGES = [
    ("get", f"{MFA}totp/activate/"),
    ("post", f"{MFA}totp/deactivate/"),
    ("get", f"{MFA}webauthn/add/"),
    ("post", f"{MFA}webauthn/keys/1/remove/"),
    ("get", f"{MFA}webauthn/keys/1/edit/"),
    ("post", f"{MFA}recovery-codes/generate/"),
]


def records(*methods: tuple[str, float]) -> list[dict]:
    return [{"method": method, "at": at} for method, at in methods]


def request_of(user, steps: list[dict], *, owner=None):
    """A request of `user`'s session, whose sign-in steps are `steps` (of `owner`'s)."""
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session[AUTHENTICATION_METHODS_SESSION_KEY] = steps
    request.session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str((owner or user).pk)
    request.user = user
    return request


def test_a_password_or_the_provider_within_the_timeout_is_a_recent_sign_in(user, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
    now = time.time()
    assert recently_signed_in(request_of(user, records(("password", now))))
    assert recently_signed_in(request_of(user, records(("password", now - 290))))
    assert recently_signed_in(request_of(user, records(("socialaccount", now - 10))))
    assert not recently_signed_in(request_of(user, records(("password", now - 310))))
    assert not recently_signed_in(request_of(user, records(("socialaccount", now - 310))))
    assert not recently_signed_in(request_of(user, []))
    # The latest step counts, whatever came before it.
    assert recently_signed_in(
        request_of(user, records(("password", now - 4000), ("password", now - 5)))
    )


def test_a_second_factor_alone_is_not_a_recent_sign_in(user):
    assert not recently_signed_in(request_of(user, records(("mfa", time.time()))))


def test_anothers_sign_in_steps_do_not_count(user, other_user):
    steps = records(("password", time.time()))
    assert not recently_signed_in(request_of(user, steps, owner=other_user))


def test_without_local_passwords_only_the_provider_counts(user, settings):
    settings.CHAT_LOCAL_PASSWORDS = False
    now = time.time()
    assert not recently_signed_in(request_of(user, records(("password", now))))
    assert recently_signed_in(request_of(user, records(("socialaccount", now))))


def make_recent(client, user, *methods: str) -> None:
    """The session's sign-in steps, all just now."""
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records(*((m, time.time()) for m in methods))
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


def ask(client, method: str, path: str):
    return getattr(client, method)(path)


@pytest.mark.parametrize("method,path", FACTOR_CHANGES)
def test_changing_a_factor_asks_a_local_account_for_its_password(client, user, method, path):
    client.force_login(user)
    response = ask(client, method, path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/?next=")


@pytest.mark.parametrize("method,path", FACTOR_CHANGES)
def test_changing_a_factor_sends_a_single_sign_on_account_to_the_provider(
    client, django_user_model, settings, method, path
):
    settings.SSO_ENABLED = True
    rita = django_user_model.objects.create_user(username="rita")  # No password.
    SocialAccount.objects.create(user=rita, provider=PROVIDER_ID, uid="https://idp#rita")
    client.force_login(rita)  # Not just now.
    response = ask(client, method, path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sso/reauthenticate/?next=" + path.replace("/", "%2F")


def test_a_recent_sign_in_at_the_provider_reaches_the_page(client, django_user_model, settings):
    settings.SSO_ENABLED = True
    rita = django_user_model.objects.create_user(username="rita")
    SocialAccount.objects.create(user=rita, provider=PROVIDER_ID, uid="https://idp#rita")
    client.force_login(rita)
    make_recent(client, rita, "socialaccount")
    assert client.get(f"{MFA}totp/activate/").status_code == 200


def test_an_account_that_cannot_confirm_who_it_is_may_not_change_factors(
    client, django_user_model, settings
):
    nobody = django_user_model.objects.create_user(username="nobody")  # No password, no link.
    client.force_login(nobody)
    assert client.get(f"{MFA}totp/activate/").status_code == 403
    # Linked, but single sign-on is off: no way to confirm either.
    SocialAccount.objects.create(user=nobody, provider=PROVIDER_ID, uid="https://idp#nobody")
    settings.SSO_ENABLED = False
    assert client.get(f"{MFA}totp/activate/").status_code == 403


def test_with_local_passwords_off_a_password_does_not_confirm(client, user, settings):
    settings.CHAT_LOCAL_PASSWORDS = False
    client.force_login(user)
    make_recent(client, user, "password")
    assert client.get(f"{MFA}totp/activate/").status_code == 403


def test_a_recent_sign_in_reaches_the_page(client, user):
    client.force_login(user)
    make_recent(client, user, "password")
    page = client.get(f"{MFA}totp/activate/")
    assert page.status_code == 200 and "form" in page.context


def test_the_pages_need_a_signed_in_account(client):
    for method, path in [("get", f"{MFA}recovery-codes/"), *FACTOR_CHANGES]:
        response = ask(client, method, path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


def enrolled(client, user) -> None:
    """The user has TOTP, and this session showed the password and the code just now."""
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(user)
    make_recent(client, user, "password", "mfa")


def test_the_recovery_codes_page_counts_what_is_left(client, user):
    client.force_login(user)
    page = client.get(f"{MFA}recovery-codes/").content.decode()
    assert "Set up an authenticator app or a passkey first" in page
    assert "mfa_generate" not in page and "Make recovery codes" not in page
    enrolled(client, user)
    codes = recovery_codes.recovery_codes_issue(user=user)
    recovery_codes.recovery_code_use(user=user, code=codes[0])
    page = client.get(f"{MFA}recovery-codes/")
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "You have 9 unused recovery codes of 10." in html
    assert not any(code in html for code in codes)


def test_making_codes_is_a_post(client, user):
    enrolled(client, user)
    assert client.get(f"{MFA}recovery-codes/generate/").status_code == 405
    assert not RecoveryCode.objects.exists()


def test_codes_are_made_only_for_an_account_with_a_factor(client, user):
    client.force_login(user)
    make_recent(client, user, "password")
    response = client.post(f"{MFA}recovery-codes/generate/")
    assert response.status_code == 302 and response["Location"] == MFA
    assert not RecoveryCode.objects.exists()


def test_codes_need_a_recent_sign_in(client, user):
    enrolled(client, user)
    session = client.session
    for step in session[AUTHENTICATION_METHODS_SESSION_KEY]:
        step["at"] -= 3600
    session.save()
    response = client.post(f"{MFA}recovery-codes/generate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not RecoveryCode.objects.exists()


def test_new_codes_are_shown_once_replace_the_old_and_are_logged_without_them(client, user):
    enrolled(client, user)
    old = recovery_codes.recovery_codes_issue(user=user)
    response = client.post(f"{MFA}recovery-codes/generate/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    codes = re.findall(r"<code>([a-z0-9-]+)</code>", response.content.decode())
    assert len(codes) == recovery_codes.COUNT and not set(codes) & set(old)
    assert not recovery_codes.recovery_code_use(user=user, code=old[0])
    assert recovery_codes.recovery_code_use(user=user, code=codes[0])
    log = list(LogEntry.objects.filter(object_id=str(user.pk)))
    assert [entry.change_message for entry in log] == ["Made new recovery codes."]
    assert not any(code in log[0].change_message for code in codes)
