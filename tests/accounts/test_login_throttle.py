"""Sign-in throttling: per account, per address, across server processes, with a friendly 429."""

import logging
import re
from datetime import timedelta

import httpx2
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.live_server import manage, server_env, start_server

pytestmark = pytest.mark.django_db

GOOD = "pw-alice-123"


def sign_in(username: str, password: str, address: str, **headers) -> int:
    """One sign-in attempt from a fresh browser at `address`; the status code."""
    response = Client().post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )
    return response.status_code


def test_wrong_passwords_for_one_account_from_many_addresses_lock_that_account(user):
    limit = settings.AXES_FAILURE_LIMIT
    codes = [sign_in("alice", f"guess-{i}", f"10.0.{i}.1") for i in range(limit)]
    assert codes[:-1] == [200] * (limit - 1)  # The form again, with its error.
    assert codes[-1] == 429
    # Locked: even the right password, from a new address, is refused for now.
    assert sign_in("alice", GOOD, "10.9.9.9") == 429
    # Those addresses are not locked for everyone else.
    get_user_model().objects.create_user(username="bob", password="pw-bob-123")
    assert sign_in("bob", "pw-bob-123", "10.0.1.1") == 302


def test_wrong_passwords_from_one_address_across_accounts_lock_that_address(user):
    limit = settings.CHAT_LOGIN_FAILURES_PER_ADDRESS
    assert limit > settings.AXES_FAILURE_LIMIT  # An office behind one address gets more room.
    codes = [sign_in(f"user{i}", "guess", "198.51.100.7") for i in range(limit)]
    assert codes[:-1] == [200] * (limit - 1) and codes[-1] == 429
    assert sign_in("alice", GOOD, "198.51.100.7") == 429
    assert sign_in("alice", GOOD, "198.51.100.8") == 302


def test_the_lockout_page_says_when_to_retry(user):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", f"guess-{i}", "10.1.0.1")
    response = Client().post(
        "/accounts/login/", {"username": "alice", "password": GOOD}, REMOTE_ADDR="10.1.0.2"
    )
    assert response.status_code == 429
    cooloff = settings.AXES_COOLOFF_TIME.total_seconds()
    retry = int(response["Retry-After"])
    assert cooloff - 60 <= retry <= cooloff
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    minutes = round(retry / 60)
    assert f"Try again in {minutes} minutes" in html
    assert '<link rel="stylesheet"' in html  # The site's own page, not a bare error.


def test_the_lockout_ends_after_the_cool_off(user):
    from axes.models import AccessAttempt

    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", f"guess-{i}", "10.2.0.1")
    assert sign_in("alice", GOOD, "10.2.0.2") == 429
    # Failures during the lockout do not extend it: it ends one cool-off after the last one.
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
        attempt.save()
    assert sign_in("alice", GOOD, "10.2.0.2") == 302


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(user, settings):
    limit = settings.AXES_FAILURE_LIMIT
    settings.CHAT_LOGIN_FAILURES_PER_ADDRESS = limit
    # Not behind a proxy: a made-up X-Forwarded-For does not make a new address.
    codes = [
        sign_in(f"user{i}", "guess", "127.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        for i in range(limit)
    ]
    assert codes[-1] == 429

    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind one proxy, the address it appended (the last one) is the client's.
    spoofed = "203.0.113.50, 192.0.2.1"
    codes = [
        sign_in(f"other{i}", "guess", "127.0.0.2", HTTP_X_FORWARDED_FOR=spoofed)
        for i in range(limit)
    ]
    assert codes[-1] == 429
    assert sign_in("alice", GOOD, "127.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1") == 429
    assert sign_in("alice", GOOD, "127.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50") == 302


def csrf_post(client: httpx2.Client, username: str, password: str) -> httpx2.Response:
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )


def test_a_lockout_holds_across_server_processes(tmp_path):
    env = server_env(tmp_path, DJANGO_SUPERUSER_PASSWORD=GOOD)
    manage(env, "migrate", "-v0")
    manage(env, "createsuperuser", "--noinput", "--username", "boss", "--email", "b@example.com")
    first = start_server(env, tmp_path / "first.log")
    try:
        second = start_server(env, tmp_path / "second.log")
    except RuntimeError:
        first.stop()
        raise
    try:
        with (
            httpx2.Client(base_url=first.url, timeout=30) as one,
            httpx2.Client(base_url=second.url, timeout=30) as two,
        ):
            assert csrf_post(two, "boss", GOOD).status_code == 302  # The account works.
            two.cookies.clear()
            codes = [
                csrf_post(one, "boss", f"guess-{i}").status_code
                for i in range(settings.AXES_FAILURE_LIMIT)
            ]
            assert codes[-1] == 429
            refused = csrf_post(two, "boss", GOOD)
            assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
    finally:
        first.stop()
        second.stop()


def test_the_admin_sign_in_is_limited_too(user):
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/admin/login/", {"username": "alice", "password": f"guess-{i}"}, REMOTE_ADDR="10.3.0.1"
        )
    response = Client().post(
        "/admin/login/", {"username": "alice", "password": GOOD}, REMOTE_ADDR="10.3.0.2"
    )
    assert response.status_code == 429


def test_failed_sign_ins_log_no_password_username_or_address(user, caplog):
    caplog.set_level(logging.DEBUG)
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", f"secret-guess-{i}", "10.4.0.1")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("login failure" in w for w in warnings)
    assert any("Locking out" in w for w in warnings)
    assert "secret-guess" not in caplog.text
    assert "alice" not in caplog.text and "10.4.0.1" not in caplog.text
