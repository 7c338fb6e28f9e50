"""`manage.py setup_token`: a new one-time token for the first account (printed, or
written to a file only its owner reads), none once an account exists, and the notice the
server prints at start-up."""

import stat

import pytest
from django.core.management import CommandError, call_command

from conversations.accounts import services as account_services

pytestmark = pytest.mark.django_db


def printed(capsys, *args) -> str:
    call_command("setup_token", *args)
    return capsys.readouterr().out


def test_each_token_printed_works_once_and_replaces_the_one_before(capsys):
    first = printed(capsys).rsplit("setup token: ", 1)[1].strip()
    second = printed(capsys).rsplit("setup token: ", 1)[1].strip()
    assert first != second
    assert not account_services.setup_token_consume(first)  # Replaced.
    assert account_services.setup_token_consume(second)
    assert not account_services.setup_token_consume(second)  # Used up.


def test_a_token_written_to_a_file_is_for_its_owner_only(capsys, tmp_path):
    path = tmp_path / "token"
    out = printed(capsys, "--file", str(path))
    token = path.read_text().strip()
    assert out == f"Setup token written to {path}.\n" and token not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert account_services.setup_token_consume(token)


def test_once_an_account_exists_there_is_no_token_and_no_notice(capsys, user):
    with pytest.raises(CommandError, match="Accounts exist already"):
        call_command("setup_token")
    assert printed(capsys, "--notice", "--bind-host", "0.0.0.0") == ""


def test_the_notice_off_loopback_issues_a_token(capsys, settings):
    settings.CHAT_SERVED_LOCALLY = False
    notice = printed(capsys, "--notice", "--bind-host", "0.0.0.0", "--url", "https://chat.example")
    assert "https://chat.example/accounts/signup/" in notice
    token = notice.split("setup token: ", 1)[1].split()[0]
    assert account_services.setup_token_consume(token)
    settings.CHAT_SERVED_LOCALLY = True
    local = printed(capsys, "--notice", "--bind-host", "127.0.0.1")
    assert "becomes the administrator" in local and "setup token" not in local
