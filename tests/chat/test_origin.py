"""The websocket handshake's Origin must be the site itself: scheme, host and port."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.conftest import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

PROXY = ("HTTP_X_FORWARDED_PROTO", "https")
# The communicator's default (1 s) cancels an app still closing on a loaded machine, and
# its database thread runs on into the next test's flush ("database table is locked").
DISCONNECT_TIMEOUT = 10


async def handshake(user, *, host: str, origin: str | None, scheme: str = "ws", extra=()) -> bool:
    """Whether the server accepts a websocket handshake with these headers."""
    from chatsite.asgi import application

    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers.append((b"cookie", (await database_sync_to_async(session_cookie)(user)).encode()))
    headers += [(name.encode(), value.encode()) for name, value in extra]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    # The scope's scheme is what daphne sets from the connection (ws, or wss under TLS);
    # WebsocketCommunicator leaves it out, and the app has not read the scope yet.
    communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect(timeout=DISCONNECT_TIMEOUT)
    if connected:
        await communicator.disconnect(timeout=DISCONNECT_TIMEOUT)
    return connected


@pytest.mark.parametrize(
    ("host", "origin", "scheme"),
    [
        ("localhost", "http://localhost", "ws"),
        ("localhost:8000", "http://localhost:8000", "ws"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000", "ws"),
        ("localhost", "http://localhost:80", "ws"),
        ("localhost", "https://localhost", "wss"),
        ("localhost:443", "https://localhost", "wss"),
        ("[::1]:8000", "http://[::1]:8000", "ws"),
    ],
)
async def test_the_sites_own_origin_is_accepted(user, host, origin, scheme):
    assert await handshake(user, host=host, origin=origin, scheme=scheme)


@pytest.mark.parametrize(
    ("host", "origin", "scheme"),
    [
        ("localhost", "http://localhost:9999", "ws"),  # wrong port
        ("localhost:8000", "http://localhost", "ws"),  # wrong port (the default one)
        ("localhost:8000", "http://localhost:8001", "ws"),
        ("localhost", "https://localhost", "ws"),  # wrong scheme
        ("localhost", "http://localhost", "wss"),  # wrong scheme, the other way
        ("localhost", "http://evil.example", "ws"),  # another host
        ("localhost", "http://localhost.evil.example", "ws"),
        ("evil.example", "http://evil.example", "ws"),  # a host we do not serve (rebinding)
        ("localhost", None, "ws"),  # no origin
        ("localhost", "null", "ws"),  # an opaque origin (sandboxed frame, file:)
        ("localhost", "", "ws"),
        ("localhost", "http://localhost/chat", "ws"),  # an origin has no path
        ("localhost", "http://user@localhost", "ws"),
        ("localhost", "ws://localhost", "ws"),  # pages are http(s), never ws
        ("localhost", "http://localhost:notaport", "ws"),
    ],
)
async def test_any_other_origin_is_refused(user, host, origin, scheme):
    assert not await handshake(user, host=host, origin=origin, scheme=scheme)


async def test_behind_a_tls_proxy_the_forwarded_proto_counts_only_when_trusted(user, settings):
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    forwarded = [("x-forwarded-proto", "https")]
    site = {"host": "chat.example.com", "origin": "https://chat.example.com", "extra": forwarded}
    # Not configured: the proxy header is anyone's to send, and is ignored.
    assert not await handshake(user, **site)
    settings.SECURE_PROXY_SSL_HEADER = PROXY
    assert await handshake(user, **site)
    assert not await handshake(user, **(site | {"origin": "http://chat.example.com"}))
    # The proxy says plain http: an https origin is not this site.
    assert not await handshake(user, **(site | {"extra": [("x-forwarded-proto", "http")]}))


async def test_csrf_trusted_origins_are_accepted_too(user, settings):
    # A proxy that rewrites Host to the app's own address: the public origin is listed.
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com", "https://*.team.example"]
    assert await handshake(user, host="127.0.0.1:8000", origin="https://chat.example.com")
    assert await handshake(user, host="127.0.0.1:8000", origin="https://eu.team.example")
    assert not await handshake(user, host="127.0.0.1:8000", origin="http://chat.example.com")
    assert not await handshake(user, host="127.0.0.1:8000", origin="https://chat.example.com:8443")
    assert not await handshake(user, host="127.0.0.1:8000", origin="https://team.example.evil")
    # The Host header must still be one we serve.
    assert not await handshake(user, host="evil.example", origin="https://chat.example.com")
