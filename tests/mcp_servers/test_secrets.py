"""Stored secrets: encrypted with the keys in CHAT_SECRETS_KEY (the first encrypts, all
decrypt, so keys rotate), or with a key derived from DJANGO_SECRET_KEY when none is set;
a token no key opens reads as nothing; no secret reaches the log, on a call that works
or one that fails."""

import logging

import pytest
from cryptography.fernet import Fernet

from conversations.mcp_servers import client, secrets

SECRET = "Bearer tok-4b3c2d1e0f-LOGGED"


def test_round_trip_and_no_plaintext(settings):
    settings.CHAT_SECRETS_KEYS = []
    token = secrets.encrypt_json({"Authorization": SECRET})
    assert "tok-4b3c2d1e0f" not in token and "Authorization" not in token
    assert secrets.decrypt_json(token) == {"Authorization": SECRET}
    assert secrets.encrypt_json({}) == "" and secrets.decrypt_json("") == {}


def test_keys_rotate(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CHAT_SECRETS_KEYS = [old]
    token = secrets.encrypt_json({"X-Key": "v"})
    settings.CHAT_SECRETS_KEYS = [new, old]  # The new key first: old tokens still open.
    assert secrets.decrypt_json(token) == {"X-Key": "v"}
    rotated = secrets.rotate(token)
    settings.CHAT_SECRETS_KEYS = [new]
    assert secrets.decrypt_json(rotated) == {"X-Key": "v"}
    assert secrets.decrypt_json(token) == {}  # Under the old key only.


def test_the_derived_key_follows_the_secret_key(settings, caplog):
    settings.CHAT_SECRETS_KEYS = []
    token = secrets.encrypt_json({"X-Key": "v"})
    settings.SECRET_KEY = "another-secret-key"
    with caplog.at_level(logging.WARNING):
        assert secrets.decrypt_json(token) == {}
    assert token not in caplog.text and "could not be decrypted" in caplog.text


def test_a_key_that_is_not_a_fernet_key_is_named_as_such(settings, caplog):
    from django.core.exceptions import ImproperlyConfigured

    settings.CHAT_SECRETS_KEYS = ["not-a-key-but-a-secret-9f8e"]
    with pytest.raises(ImproperlyConfigured) as raised:
        secrets.encrypt_json({"X": "y"})
    assert "not-a-key-but-a-secret-9f8e" not in str(raised.value)
    assert secrets.decrypt_json("gAAAA-anything") == {}
    assert "not-a-key-but-a-secret-9f8e" not in caplog.text


def test_too_much_is_refused(settings):
    with pytest.raises(ValueError, match="limited"):
        secrets.encrypt_json({"X": "y" * (secrets.MAX_PLAINTEXT + 1)})


@pytest.mark.parametrize("internal", [True, False])
async def test_no_header_value_is_logged(mcp_server, caplog, internal):
    """Everything the SDK, httpx2 and our code log at DEBUG, on calls that work and fail."""
    endpoint = client.Endpoint(
        name="Test tools",
        url=mcp_server.url,
        headers={"Authorization": SECRET, "X-Api-Key": "key-0a9b8c7d6e"},
        timeout=2,
        internal=internal,
    )
    with caplog.at_level(logging.DEBUG):
        await client.list_tools(endpoint) if internal else None
        for name, args in [("echo", {"text": "x"}), ("fail", {}), ("slow", {"seconds": 5})]:
            await client.call_tool(endpoint, name, args, 1)
    assert caplog.records
    assert "tok-4b3c2d1e0f" not in caplog.text and "key-0a9b8c7d6e" not in caplog.text


def test_the_log_takes_out_every_header_value_this_process_holds(monkeypatch):
    """Even a line some library might write quoting one, traceback included."""
    from conversations.log_redaction import RedactingFormatter
    from conversations.mcp_servers import discovery

    endpoint = client.Endpoint(
        name="T",
        url="https://x.example/mcp",
        headers={"X-Key": "Token plainword9"},
        timeout=5,
        internal=False,
    )
    state = discovery.ServerState(
        id=1, name="T", prefix="t", endpoint=endpoint, offered=None, trusted=frozenset()
    )
    monkeypatch.setattr(discovery, "_states", {1: state})
    record = logging.LogRecord("lib", logging.ERROR, __file__, 1, "sent %s", ("plainword9",), None)
    line = RedactingFormatter("%(message)s").format(record)
    assert line == "sent [redacted]"
