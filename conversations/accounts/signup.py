"""Who may create an account: the first-account rule, the sign-up mode, and their secrets.

On a fresh install the first account becomes the administrator. That is only safe when
nobody but the person at the machine can reach the sign-up page: so the setup token is
needed unless the server is served locally (settings.CHAT_SERVED_LOCALLY: loopback host
names, bound to loopback, no proxy) *and* this request comes straight from loopback.
"""

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest

from ..hosts import is_loopback
from . import selectors as account_selectors
from .login_throttle import client_ip

SETUP_TOKEN_TTL = timedelta(hours=24)
# Any of these means a proxy relayed the request: whoever sent it may be anywhere.
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


@dataclass(frozen=True)
class SignupRules:
    """What a sign-up needs right now."""

    first_account: bool
    needs: str  # "", "setup_token" or "invite"
    closed: bool


def new_secret() -> str:
    """A setup token or invite code: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What is stored of a token or code. Being random, it needs no slow, salted hash."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


def signup_rules(request: HttpRequest) -> SignupRules:
    """The rules for a sign-up arriving as `request`."""
    if not account_selectors.user_exists():
        return SignupRules(
            first_account=True, needs="" if trusted_local(request) else "setup_token", closed=False
        )
    mode = settings.CHAT_SIGNUP
    return SignupRules(
        first_account=False, needs="invite" if mode == "invite" else "", closed=mode == "closed"
    )


def signup_key(request: HttpRequest) -> str:
    """Whom a sign-up counts against (rate_limits.SIGNUPS): the client's address as the
    rest of the app sees it (behind a trusted proxy, the one it appended), an IPv6 one by
    its /64, which one host or home commonly holds whole."""
    address = client_ip(request)
    if address is None:
        return "unknown"
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def signup_offered() -> bool:
    """Whether the sign-in page should point to sign-up at all."""
    return settings.CHAT_SIGNUP != "closed" or not account_selectors.user_exists()


def trusted_local(request: HttpRequest) -> bool:
    """Whether the request comes straight from this machine, on a locally served install."""
    if not settings.CHAT_SERVED_LOCALLY:
        return False
    if any(request.META.get(header) for header in FORWARDING_HEADERS):
        return False
    return is_loopback(request.META.get("REMOTE_ADDR") or "")
