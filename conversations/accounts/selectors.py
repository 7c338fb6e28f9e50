"""Reads about accounts: a user's settings and custom instructions, whether any account
exists yet, whether a session still signs its user in, and their two-factor status."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.utils.crypto import constant_time_compare

from . import two_factor
from .models import RecoveryCode, UserSettings


def user_settings(*, user: AbstractBaseUser) -> UserSettings:
    """The user's settings; the defaults (not saved) when they have never changed any."""
    found = UserSettings.objects.filter(user_id=user.pk).first()
    return found or UserSettings(user_id=user.pk)


def custom_instructions(*, user_id: int) -> str:
    """What the user asked to add to every system prompt ("" for none)."""
    found = UserSettings.objects.filter(user_id=user_id).values_list(
        "custom_instructions", flat=True
    )
    return next(iter(found), "")


def user_exists() -> bool:
    """Whether any account exists yet (the first one becomes the administrator)."""
    return get_user_model().objects.exists()


def session_signs_in(*, session_key: str | None, user_id: int) -> bool:
    """Whether a session still signs in this user, as Django would judge it on a request.

    The session must exist unexpired and name the user; the user must exist and be active;
    the password-derived hash the session keeps must match the user's current one (or one
    made with a SECRET_KEY_FALLBACKS key), so a new password ends older sessions; and a
    user with a second factor must have shown it in this session (two_factor.py).
    """
    if not session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return False
    stored = data.get(HASH_SESSION_KEY) or ""
    current = constant_time_compare(stored, user.get_session_auth_hash()) or any(
        constant_time_compare(stored, user._get_session_auth_hash(secret=secret))
        for secret in settings.SECRET_KEY_FALLBACKS
    )
    # And its second factor, when the user has one (or is staff who must enrol one).
    return current and two_factor.session_state(data, user=user) == two_factor.OK


def two_factor_status(user: AbstractBaseUser) -> str:
    """The user's second factors, for people: "off", "TOTP", "passkey" or "TOTP and
    passkey", with ", N recovery codes" left unused when there are any."""
    return two_factor_statuses(user_ids=[user.pk])[user.pk]


def two_factor_statuses(*, user_ids: list[int]) -> dict[int, str]:
    """two_factor_status of each of these users, in two queries whatever their number."""
    kinds: dict[int, set[str]] = {user_id: set() for user_id in user_ids}
    for user_id, kind in two_factor.factor_types_of(user_ids=user_ids):
        kinds[user_id].add(kind)
    left = dict(
        RecoveryCode.objects.filter(user_id__in=user_ids, used_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    statuses = {}
    for user_id, found in kinds.items():
        names = [
            name for kind, name in (("totp", "TOTP"), ("webauthn", "passkey")) if kind in found
        ]
        if not names:
            statuses[user_id] = "off"
            continue
        count = left.get(user_id, 0)
        codes = f", {count} recovery code{'s' if count != 1 else ''}" if count else ""
        statuses[user_id] = " and ".join(names) + codes
    return statuses
