"""The websocket handshake's Origin check: the page must come from this very site.

Browsers send cookies with a websocket handshake from any page, so the Origin header is
what stops another site (or another port on the same host) from opening a socket as the
signed-in user. Channels' AllowedHostsOriginValidator compares host names only; here the
whole origin (scheme, host, port) must be the site's own, as the handshake reached us, or
one of CSRF_TRUSTED_ORIGINS, exactly as Django's CSRF check treats a form POST.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


class SameOriginValidator:
    """ASGI middleware: refuses a websocket handshake whose Origin is not this site."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def origin_allowed(scope: dict) -> bool:
    """Whether the handshake's Host is ours and its Origin is the site or a trusted origin."""
    headers = _headers(scope)
    host = headers.get("host", "")
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    origin = _origin(headers.get("origin", ""))
    if origin is None:
        return False
    site = _origin(f"{_scheme(scope, headers)}://{host}")
    return origin == site or _trusted(origin)


def _headers(scope: dict) -> dict[str, str]:
    """The handshake's headers by lower-case name; a repeated header counts as missing."""
    seen: dict[str, str] = {}
    repeated = set()
    for name, value in scope.get("headers", []):
        key = name.decode("latin1").lower()
        if key in seen:
            repeated.add(key)
        seen[key] = value.decode("latin1")
    return {k: v for k, v in seen.items() if k not in repeated}


def _scheme(scope: dict, headers: dict[str, str]) -> str:
    """The page scheme the handshake implies: wss means https, ws http.

    Behind a TLS-terminating proxy the connection is plain ws; SECURE_PROXY_SSL_HEADER names
    the header that proxy sets, read here as Django reads it for a request.
    """
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        meta_name, secure_value = proxy
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower()
        value = headers.get(name)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") == "wss" else "http"


def _origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a serialized origin, or None when it is not one.

    "null" (sandboxed frames, file: pages), paths, user info and schemes other than http(s)
    are never a page of this site.
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _trusted(origin: tuple[str, str, int]) -> bool:
    """Whether CSRF_TRUSTED_ORIGINS lists the origin (`https://*.example.com` included)."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        if "://*." in entry:
            entry_scheme, pattern = entry.split("://", 1)
            trusted = _origin(f"{entry_scheme}://{pattern.removeprefix('*.')}")
            if trusted and trusted[0] == scheme and trusted[2] == port:
                if is_same_domain(host, "." + trusted[1]):  # As Django's CSRF check matches.
                    return True
        elif _origin(entry) == origin:
            return True
    return False
