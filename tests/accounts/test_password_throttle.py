"""The settings pages that ask for the password again sit behind the sign-in throttle: a
wrong password there is a failed sign-in of that account from that address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests.accounts.test_login_throttle import GOOD, sign_in

pytestmark = pytest.mark.django_db

NEW = "n3w-Secret-pw-77"

# Each page that asks for the password again, with a form that is right but for it.
PAGES = {
    "/settings/password/": lambda password: {
        "old_password": password,
        "new_password1": NEW,
        "new_password2": NEW,
    },
    "/settings/sign-out-everywhere/": lambda password: {"password": password},
    "/settings/delete-account/": lambda password: {"password": password, "confirm": "on"},
}


def signed_in(user, address: str) -> Client:
    browser = Client(REMOTE_ADDR=address)
    browser.force_login(user)
    return browser


def guess(browser: Client, page: str, password: str):
    return browser.post(page, PAGES[page](password))


def still_signed_in(browser: Client) -> bool:
    return browser.get("/settings/").status_code == 200


def test_wrong_passwords_on_the_settings_pages_lock_the_account_like_failed_sign_ins(user):
    limit = settings.AXES_FAILURE_LIMIT
    browser = signed_in(user, "10.6.0.1")
    pages = list(PAGES)
    codes = [guess(browser, pages[i % len(pages)], f"guess-{i}").status_code for i in range(limit)]
    assert codes[:-1] == [400] * (limit - 1)  # The page again, with the form's error.
    assert codes[-1] == 429

    # Locked: the right password is refused too, on every page, and does nothing.
    for page in pages:
        refused = guess(browser, page, GOOD)
        assert refused.status_code == 429, page
        cooloff = settings.AXES_COOLOFF_TIME.total_seconds()
        assert cooloff - 60 <= int(refused["Retry-After"]) <= cooloff
        assert "Too many wrong passwords" in refused.content.decode()
    user.refresh_from_db()
    assert user.check_password(GOOD) and not user.check_password(NEW)
    assert still_signed_in(browser)  # Not signed out everywhere, not deleted.
    # The same count as the sign-in page's: signing in to the account is locked too.
    assert sign_in("alice", GOOD, "10.6.9.9") == 429


def test_failed_sign_ins_and_wrong_settings_passwords_share_one_count(user):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit - 1):
        assert sign_in("alice", f"guess-{i}", f"10.8.{i}.1") == 200
    browser = signed_in(user, "10.8.100.1")
    assert guess(browser, "/settings/sign-out-everywhere/", "one-more-guess").status_code == 429


def test_wrong_settings_passwords_count_against_the_address(user, django_user_model, settings):
    settings.CHAT_LOGIN_FAILURES_PER_ADDRESS = settings.AXES_FAILURE_LIMIT + 2
    bob = django_user_model.objects.create_user(username="bob", password="pw-bob-123")
    browser = signed_in(bob, "192.0.2.77")
    for i in range(settings.AXES_FAILURE_LIMIT - 1):  # Short of locking bob's account.
        assert guess(browser, "/settings/delete-account/", f"guess-{i}").status_code == 400
    codes = [sign_in(f"someone{i}", "guess", "192.0.2.77") for i in range(3)]
    assert codes == [200, 200, 429]  # The address reached its limit.
    assert sign_in("alice", GOOD, "192.0.2.77") == 429
    assert sign_in("alice", GOOD, "192.0.2.78") == 302


def test_the_right_password_works_again_once_the_lockout_ends(user):
    browser = signed_in(user, "10.9.0.1")
    for i in range(settings.AXES_FAILURE_LIMIT):
        guess(browser, "/settings/sign-out-everywhere/", f"guess-{i}")
    assert guess(browser, "/settings/sign-out-everywhere/", GOOD).status_code == 429
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
        attempt.save()
    response = guess(browser, "/settings/password/", GOOD)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_the_passwords_typed_are_not_kept_with_the_failed_attempt(user):
    browser = signed_in(user, "10.10.0.1")
    assert guess(browser, "/settings/password/", "my-old-guess-42").status_code == 400
    assert guess(browser, "/settings/sign-out-everywhere/", "my-other-guess-43").status_code == 400
    [attempt] = AccessAttempt.objects.all()
    assert attempt.failures_since_start == 2
    kept = f"{attempt.post_data}{attempt.get_data}"
    assert "old_password" in kept  # The form's fields are kept, their values masked.
    for secret in ("my-old-guess-42", "my-other-guess-43", NEW, GOOD):
        assert secret not in kept


@pytest.mark.parametrize("path", ["/accounts/password_change/", "/admin/password_change/"])
def test_djangos_own_password_change_pages_lead_to_the_throttled_one(user, path):
    user.is_staff = True  # The admin's page is for staff.
    user.save()
    browser = signed_in(user, "10.11.0.1")
    for method in (browser.get, browser.post):
        response = method(
            path, {"old_password": "guess", "new_password1": NEW, "new_password2": NEW}
        )
        assert response.status_code == 302
        assert response["Location"] == "/settings/#settings-password"
    user.refresh_from_db()
    assert user.check_password(GOOD)
