"""Who may sign up: the first account (setup token off loopback), open, closed and invite-only."""

import os
import re
import stat
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from conversations.accounts import services as account_services
from conversations.accounts.models import Invite, SetupToken

pytestmark = pytest.mark.django_db

PASSWORD = "a-Strong-pass-42"
User = get_user_model()


def sign_up(client: Client, username: str, *, token: str = "", **meta):
    data = {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    if token:
        data["token"] = token
    return client.post("/accounts/signup/", data, **meta)


@pytest.fixture
def public(settings):
    """A server reachable from other machines (a public name, or bound beyond loopback)."""
    settings.CHAT_SERVED_LOCALLY = False


def test_on_a_laptop_the_first_account_needs_no_token_and_is_the_administrator(client):
    page = client.get("/accounts/signup/")
    assert b"becomes the administrator" in page.content
    assert b'name="token"' not in page.content
    assert sign_up(client, "first").status_code == 302
    first = User.objects.get(username="first")
    assert first.is_superuser and first.is_staff


def test_from_another_machine_even_a_laptop_install_asks_for_the_token(client):
    # Bound to all addresses with the default (loopback) host names: the Host header is
    # anyone's to send, the connection's address is not.
    response = sign_up(client, "intruder", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200 and not User.objects.exists()
    response = sign_up(client, "intruder", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert response.status_code == 200 and not User.objects.exists()
    assert b"setup token" in response.content


def test_on_a_public_server_the_first_account_needs_the_setup_token(client, public):
    page = client.get("/accounts/signup/")
    assert b'name="token"' in page.content and b"setup token" in page.content
    assert sign_up(client, "intruder").status_code == 200  # No token: refused, form again.
    assert sign_up(client, "intruder", token="guessed-token").status_code == 200
    assert not User.objects.exists()

    token = account_services.setup_token_issue()
    assert sign_up(client, "owner", token=token).status_code == 302
    owner = User.objects.get(username="owner")
    assert owner.is_superuser and owner.is_staff
    # Used up, and it never made anyone else an administrator.
    assert not SetupToken.objects.exists()
    client.logout()
    assert sign_up(client, "second", token=token).status_code == 302  # Open sign-up now.
    assert not User.objects.get(username="second").is_superuser


def test_the_setup_token_is_stored_hashed_expires_and_is_replaced_by_a_new_one(client, public):
    old = account_services.setup_token_issue()
    new = account_services.setup_token_issue()
    stored = SetupToken.objects.get()
    assert old not in stored.token_hash and new not in stored.token_hash
    assert len(new) >= 32
    assert sign_up(client, "owner", token=old).status_code == 200  # Replaced.
    SetupToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert sign_up(client, "owner", token=new).status_code == 200  # Expired.
    assert not User.objects.exists()


def test_setup_token_command_prints_a_working_token(client, public, capsys):
    call_command("setup_token")
    out = capsys.readouterr().out
    token = next(line.split()[-1] for line in out.splitlines() if "setup token:" in line)
    assert sign_up(client, "owner", token=token).status_code == 302
    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("setup_token")


def test_start_up_notice_says_who_becomes_the_administrator(public, capsys):
    notice = account_services.startup_notice(bind_host="0.0.0.0", url="http://0.0.0.0:8000")
    assert "administrator" in notice and "http://0.0.0.0:8000/accounts/signup/" in notice
    token = notice.split("setup token: ")[1].split()[0]
    assert SetupToken.objects.count() == 1
    assert account_services.setup_token_consume(token)
    User.objects.create_user(username="someone", password=PASSWORD)
    assert account_services.startup_notice(bind_host="0.0.0.0", url="http://x") == ""


def test_start_up_notice_on_loopback_needs_no_token(settings):
    settings.CHAT_SERVED_LOCALLY = True
    notice = account_services.startup_notice(bind_host="127.0.0.1", url="http://127.0.0.1:8000")
    assert "first account" in notice and "administrator" in notice
    assert "setup token" not in notice and not SetupToken.objects.exists()
    # Loopback host names but bound to every address: the token is needed.
    notice = account_services.startup_notice(bind_host="0.0.0.0", url="http://0.0.0.0:8000")
    assert "setup token: " in notice


def test_setup_token_command_with_a_file_writes_it_owner_only(public, tmp_path):
    path = tmp_path / "setup-token"
    call_command("setup_token", "--file", str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = path.read_text().strip()
    assert account_services.setup_token_consume(token)


def test_closed_sign_up_says_so(client, settings):
    settings.CHAT_SIGNUP = "closed"
    User.objects.create_user(username="boss", password=PASSWORD)
    page = client.get("/accounts/signup/")
    assert page.status_code == 403 and b"Sign-up is closed" in page.content
    assert sign_up(client, "newcomer").status_code == 403
    assert not User.objects.filter(username="newcomer").exists()
    assert b"Sign up" not in client.get("/accounts/login/").content


def test_closed_sign_up_still_lets_the_first_account_in_with_the_token(client, settings, public):
    settings.CHAT_SIGNUP = "closed"
    assert sign_up(client, "owner").status_code == 200
    assert sign_up(client, "owner", token=account_services.setup_token_issue()).status_code == 302
    assert User.objects.get(username="owner").is_superuser


def test_invite_only_sign_up_takes_a_single_use_expiring_code(client, settings):
    settings.CHAT_SIGNUP = "invite"
    boss = User.objects.create_superuser(username="boss", password=PASSWORD)
    assert sign_up(client, "nobody").status_code == 200
    assert sign_up(client, "nobody", token="made-up").status_code == 200
    assert not User.objects.filter(username="nobody").exists()

    invite, code = account_services.invite_create(created_by=boss, note="for Ann")
    page = client.get(f"/accounts/signup/?invite={code}")
    assert f'value="{code}"'.encode() in page.content  # The link fills the code in.
    assert sign_up(client, "ann", token=code).status_code == 302
    invite.refresh_from_db()
    assert invite.used_by.username == "ann" and invite.used_at is not None
    assert code not in invite.code_hash
    client.logout()
    assert sign_up(client, "ann2", token=code).status_code == 200  # Single use.

    _, code = account_services.invite_create(
        created_by=boss, expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert sign_up(client, "late", token=code).status_code == 200
    assert not User.objects.filter(username__in=["ann2", "late"]).exists()


def test_staff_make_invites_in_the_admin_and_see_the_link_once(client, settings):
    settings.CHAT_SIGNUP = "invite"
    boss = User.objects.create_superuser(username="boss", password=PASSWORD)
    client.force_login(boss)
    response = client.post(
        "/admin/conversations/invite/add/",
        {
            "note": "for the new intern",
            "expires_at_0": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%d"),
            "expires_at_1": "12:00:00",
        },
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    link = next(m for m in messages if "/accounts/signup/?invite=" in m)
    code = link.split("?invite=")[1].split()[0]
    invite = Invite.objects.get()
    assert invite.created_by == boss and invite.note == "for the new intern"
    assert code not in response.content.decode().replace(link, "")  # Not shown elsewhere.
    client.logout()
    assert sign_up(client, "intern", token=code).status_code == 302


def test_sign_up_mode_must_be_known(tmp_path):
    from tests.live_server import manage, server_env

    result = manage(server_env(tmp_path, CHAT_SIGNUP="maybe"), "check", check=False)
    assert result.returncode != 0 and "CHAT_SIGNUP" in result.stderr


def from_(address: str, **meta) -> Client:
    """A fresh browser at `address` (each sign-up signs its browser in)."""
    return Client(REMOTE_ADDR=address, **meta)


def test_sign_ups_are_limited_per_client_address(settings):
    settings.CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS = 2
    User.objects.create_user(username="boss", password=PASSWORD)  # Open sign-up from here on.
    assert sign_up(from_("203.0.113.5"), "one").status_code == 302
    assert sign_up(from_("203.0.113.5"), "two").status_code == 302
    refused = sign_up(from_("203.0.113.5"), "three")
    assert refused.status_code == 429
    assert 3500 <= int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert "more than 2 new accounts an hour from your network" in page
    assert re.search(r"Try again in \d+ min", page)
    assert not User.objects.filter(username="three").exists()
    # Another address is another count.
    assert sign_up(from_("203.0.113.6"), "three").status_code == 302


def test_a_sign_up_counts_once_its_form_is_right_even_if_its_code_is_wrong(settings):
    settings.CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS = 2
    settings.CHAT_SIGNUP = "invite"
    boss = User.objects.create_user(username="boss", password=PASSWORD)
    browser = from_("198.51.100.9")
    mistyped = {"username": "ann", "password1": PASSWORD, "password2": PASSWORD + "x"}
    for _ in range(3):  # A form with mistakes counts for nothing.
        assert browser.post("/accounts/signup/", mistyped | {"token": "x"}).status_code == 200
    assert sign_up(browser, "ann", token="guessed-code").status_code == 200  # Counted.
    _, code = account_services.invite_create(created_by=boss)
    assert sign_up(browser, "ann", token=code).status_code == 302
    _, code = account_services.invite_create(created_by=boss)
    assert sign_up(from_("198.51.100.9"), "bea", token=code).status_code == 429
    assert not User.objects.filter(username="bea").exists()


def test_sign_ups_count_per_forwarded_address_only_behind_a_trusted_proxy(settings):
    settings.CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS = 1
    User.objects.create_user(username="boss", password=PASSWORD)
    # No proxy: a made-up X-Forwarded-For makes no new address.
    assert sign_up(from_("192.0.2.10", HTTP_X_FORWARDED_FOR="10.0.0.1"), "a").status_code == 302
    assert sign_up(from_("192.0.2.10", HTTP_X_FORWARDED_FOR="10.0.0.2"), "b").status_code == 429
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind one proxy: the address it appended is the client's, whatever came before it.
    proxied = {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.20"}
    assert sign_up(from_("127.0.0.1", **proxied), "c").status_code == 302
    proxied = {"HTTP_X_FORWARDED_FOR": "198.51.100.2, 203.0.113.20"}
    assert sign_up(from_("127.0.0.1", **proxied), "d").status_code == 429
    proxied = {"HTTP_X_FORWARDED_FOR": "203.0.113.21"}
    assert sign_up(from_("127.0.0.1", **proxied), "d").status_code == 302


def test_an_ipv6_client_counts_by_its_64(settings):
    settings.CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS = 1
    User.objects.create_user(username="boss", password=PASSWORD)
    assert sign_up(from_("2001:db8:0:1::1"), "a").status_code == 302
    assert sign_up(from_("2001:db8:0:1:ffff::2"), "b").status_code == 429  # The same /64.
    assert sign_up(from_("2001:db8:0:2::1"), "b").status_code == 302


def test_zero_turns_the_sign_up_limit_off(settings):
    settings.CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS = 0
    User.objects.create_user(username="boss", password=PASSWORD)
    assert all(sign_up(from_("203.0.113.99"), f"u{i}").status_code == 302 for i in range(8))
