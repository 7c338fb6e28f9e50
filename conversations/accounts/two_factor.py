"""Two-factor sign-in: whether a session's second factor was verified, and what a user owes.

allauth.mfa asks for the second factor before it signs anyone in, and records each step of
a sign-in in the session (`account_authentication_methods`); the mark this app checks is
an `mfa` step there, for the session's own user. A session made before its user enrolled
(on another device) has no mark: its pages and sockets are refused until it signs in again.
Staff, when CHAT_REQUIRE_2FA_FOR_STAFF is on, reach only the enrolment page until they
have a factor.
"""

from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

# allauth's Authenticator types that are a second factor (recovery codes only stand in).
FACTOR_TYPES = ("totp", "webauthn")

OK = "ok"
OWED = "owed"  # The user has a factor; this session never showed it.
ENROL = "enrol"  # Staff who must enrol first (CHAT_REQUIRE_2FA_FOR_STAFF).


def factor_types(*, user_id: int) -> set[str]:
    """The kinds of second factor the user has enrolled."""
    from allauth.mfa.models import Authenticator

    return set(
        Authenticator.objects.filter(user_id=user_id, type__in=FACTOR_TYPES).values_list(
            "type", flat=True
        )
    )


def factor_types_of(*, user_ids: list[int]) -> list[tuple[int, str]]:
    """(user id, kind) of every second factor these users have enrolled: one query."""
    from allauth.mfa.models import Authenticator

    return list(
        Authenticator.objects.filter(user_id__in=user_ids, type__in=FACTOR_TYPES)
        .values_list("user_id", "type")
        .distinct()
    )


def verified_in(session_data, *, user_id: int) -> bool:
    """Whether this session's sign-in included a second factor, for this user."""
    if str(session_data.get(_AUTHENTICATION_METHODS_USER_SESSION_KEY)) != str(user_id):
        return False
    records = session_data.get(AUTHENTICATION_METHODS_SESSION_KEY)
    return isinstance(records, list) and any(
        isinstance(r, dict) and r.get("method") == "mfa" for r in records
    )


def session_state(session_data, *, user: AbstractBaseUser) -> str:
    """OK, OWED or ENROL for a signed-in session (one query unless the session is marked)."""
    if verified_in(session_data, user_id=user.pk):
        return OK
    if factor_types(user_id=user.pk):
        return OWED
    if settings.CHAT_REQUIRE_2FA_FOR_STAFF and user.is_staff:
        return ENROL
    return OK
