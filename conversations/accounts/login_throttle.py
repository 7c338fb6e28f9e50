"""Sign-in throttling with django-axes: one limit per account, a higher one per address.

Axes records each failed sign-in in the database, so every server process sees the same
count, and locks a request out when one of its lockout parameters (the username, the
client's address) has failed too often within the cool-off. It has a single limit for
both; an office behind one address needs more room than a single account, so failures
from an address are scaled here to reach axes' limit exactly at the per-address limit.

A password asked for again on a settings page is checked as a sign-in is
(`password_confirmed`): otherwise a stolen session could guess at it without limit. So
are second-factor codes and failed single sign-on callbacks (`sign_in_allowed`,
`sign_in_failed`).
"""

import ipaddress
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone


class LoginThrottle(AxesDatabaseHandler):
    """Axes' database handler with separate limits per account and per address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_account, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        per_account = settings.AXES_FAILURE_LIMIT
        per_address = settings.CHAT_LOGIN_FAILURES_PER_ADDRESS
        return max(by_account, by_address - per_address + per_account)

    def locked_until(self, request, credentials: dict | None = None) -> datetime:
        """When the lockout on this request ends: a cool-off after the latest failure."""
        latest = [
            attempts.aggregate(latest=Max("attempt_time"))["latest"]
            for attempts in self.get_user_attempts(request, credentials)
        ]
        start = max((t for t in latest if t is not None), default=timezone.now())
        return start + settings.AXES_COOLOFF_TIME


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or behind a trusted proxy the one it appended.

    Entries further left in X-Forwarded-For are whatever the client sent, so only the one
    DJANGO_PROXY_COUNT places from the right is believed.
    """
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.BEHIND_PROXY:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= settings.PROXY_COUNT:
            candidates.insert(0, forwarded[-settings.PROXY_COUNT])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def password_confirmed(*, request: HttpRequest, password: str) -> bool:
    """Whether `password` is the signed-in user's, checked through Django's authenticate
    as a sign-in is, so axes counts it: a wrong one is a failed sign-in of the account
    from the client's address, and while either is locked out even the right one is
    refused. Axes marks such a request locked out, and its middleware answers it with the
    lockout page (HTTP 429 with Retry-After) whatever the view returned."""
    user = request.user
    found = authenticate(request, username=user.get_username(), password=password)
    return found is not None and found.pk == user.pk


def sign_in_allowed(*, request: HttpRequest, credentials: dict) -> bool:
    """Whether neither `credentials`' account nor the client's address is locked out. When
    one is, the request is marked as axes marks a refused sign-in, so its middleware
    answers it with the lockout page (HTTP 429 with Retry-After), whatever the view does."""
    if AxesProxyHandler.is_allowed(request, credentials):
        return True
    request.axes_locked_out = True
    request.axes_credentials = credentials
    return False


def sign_in_failed(*, request: HttpRequest, credentials: dict) -> None:
    """Count a failed step of a sign-in other than a password (a second factor, a single
    sign-on callback) as a failed sign-in, against the account and the address."""
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
