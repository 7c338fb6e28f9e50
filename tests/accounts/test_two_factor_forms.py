"""The second-factor code forms: an authenticator code or a recovery code, under the same
limits as a password (a wrong code is a failed sign-in; while locked out even the right
code is refused), and written to the admin log without the code."""

import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.core import context
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import RequestFactory

from conversations.accounts import recovery_codes, two_factor
from conversations.accounts.sessions import SessionStore
from conversations.accounts.two_factor_forms import AuthenticateForm, ReauthenticateForm

pytestmark = pytest.mark.django_db

WRONG = "That code is not right."


@pytest.fixture(autouse=True)
def fresh_cache():
    """allauth keeps used TOTP codes and its own rate limits in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def secret(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def code_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def submit(user, code: str, *, form_class=AuthenticateForm, address: str = "10.0.0.1"):
    """One request posting `code` for `user`'s second step; the form and its request."""
    request = RequestFactory().post("/accounts/2fa/authenticate/", REMOTE_ADDR=address)
    request.session = SessionStore()
    request.user = AnonymousUser()
    with context.request_context(request):
        form = form_class(user=user, data={"code": code})
        if form.is_valid():
            form.save()
    return form, request


def log_of(user) -> list[str]:
    entries = LogEntry.objects.filter(object_id=str(user.pk)).order_by("pk")
    return list(entries.values_list("change_message", flat=True))


def test_the_authenticators_code_completes_the_step(user, secret):
    form, request = submit(user, code_now(secret))
    assert form.is_valid() and not form.recovery_code
    assert two_factor.verified_in(request.session, user_id=user.pk)
    assert not AccessAttempt.objects.exists()


def test_a_wrong_code_is_a_failed_sign_in_of_the_account_from_the_address(user, secret):
    form, request = submit(user, "123456")
    assert form.errors == {"code": [WRONG]}
    assert not two_factor.verified_in(request.session, user_id=user.pk)
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("alice", "10.0.0.1")
    assert attempt.failures_since_start == 1
    assert log_of(user) == ["A wrong second-factor code was entered."]
    submit(user, "654321")
    assert AccessAttempt.objects.get().failures_since_start == 2


def test_a_recovery_code_completes_the_step_once(user, secret):
    codes = recovery_codes.recovery_codes_issue(user=user)
    form, request = submit(user, codes[0].upper().replace("-", " "))
    assert form.is_valid() and form.recovery_code
    assert two_factor.verified_in(request.session, user_id=user.pk)
    steps = request.session[AUTHENTICATION_METHODS_SESSION_KEY]
    assert steps[-1]["method"] == "mfa" and steps[-1]["type"] == "recovery_code"
    assert "reauthenticated" not in steps[-1]
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 9
    assert log_of(user) == ["Signed in with a recovery code (9 left)."]
    again, _ = submit(user, codes[0])
    assert again.errors == {"code": [WRONG]}
    assert AccessAttempt.objects.get().failures_since_start == 1
    assert not any(codes[0] in message for message in log_of(user))


def test_something_shaped_like_a_recovery_code_that_is_not_one_is_a_failure(user, secret):
    recovery_codes.recovery_codes_issue(user=user)
    form, _ = submit(user, "abcd-efgh-jkmn-pqrs")
    assert form.errors == {"code": [WRONG]}
    assert AccessAttempt.objects.get().failures_since_start == 1
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 10


def test_a_recovery_code_of_another_account_is_refused(user, other_user, secret):
    theirs = recovery_codes.recovery_codes_issue(user=other_user)
    form, _ = submit(user, theirs[0])
    assert form.errors == {"code": [WRONG]}
    assert recovery_codes.recovery_codes_left(user_id=other_user.pk) == 10


def test_while_locked_out_even_the_right_codes_are_refused_and_none_is_used_up(
    user, other_user, secret, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    codes = recovery_codes.recovery_codes_issue(user=user)
    for guess in ("111111", "222222", "333333"):
        submit(user, guess)
    for right in (code_now(secret), codes[0]):
        form, request = submit(user, right, address="10.0.0.2")  # From anywhere.
        assert form.errors == {"code": ["Too many failed sign-ins: try again later."]}
        assert request.axes_locked_out is True  # Axes' middleware answers with its page.
        assert not two_factor.verified_in(request.session, user_id=user.pk)
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 10
    # The account is locked, not everyone at that address.
    other_secret = generate_totp_secret()
    TOTP.activate(other_user, other_secret)
    form, _ = submit(other_user, code_now(other_secret))
    assert form.is_valid()


def test_a_recovery_code_confirms_who_it_is_when_asked_again(user, secret):
    codes = recovery_codes.recovery_codes_issue(user=user)
    form, request = submit(user, codes[1], form_class=ReauthenticateForm)
    assert form.is_valid() and form.recovery_code
    step = request.session[AUTHENTICATION_METHODS_SESSION_KEY][-1]
    assert step["method"] == "mfa" and step["type"] == "recovery_code"
    assert step["reauthenticated"] is True
    wrong, _ = submit(user, "000000", form_class=ReauthenticateForm)
    assert wrong.errors == {"code": [WRONG]}
    assert AccessAttempt.objects.get().failures_since_start == 1


def test_the_field_says_what_it_takes_and_is_not_autocorrected(user):
    field = AuthenticateForm(user=user).fields["code"]
    assert field.label == "Code from your authenticator app, or a recovery code"
    attrs = field.widget.attrs
    assert attrs["autocomplete"] == "one-time-code" and attrs["autocapitalize"] == "none"
    assert attrs["spellcheck"] == "false" and "placeholder" not in attrs
