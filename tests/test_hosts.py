"""Which hosts mean this machine only: what decides whether the first sign-up needs the
setup token and whether HTTPS is assumed."""

import pytest

from conversations.hosts import is_loopback


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST:8000",
        "app.localhost",
        "127.0.0.1",
        "127.8.9.10:8000",
        "::1",
        "[::1]",
        "[::1]:8000",
        "::ffff:127.0.0.1",
        " 127.0.0.1 ",
    ],
)
def test_loopback_names_and_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "",
        "0.0.0.0",
        "::",
        "10.0.0.1",
        "192.168.1.2:8000",
        "[2001:db8::1]",
        "::ffff:10.0.0.1",
        "example.com",
        "localhost.example.com",
        "notlocalhost",
        "127.0.0.1.example.com",
    ],
)
def test_anything_else_is_not(host):
    assert not is_loopback(host)
