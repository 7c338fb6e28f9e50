"""Reads about single sign-on: whether it is on, the group map, and a user's links."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from .config import PROVIDER_ID


def sso_enabled() -> bool:
    return settings.SSO_ENABLED


def local_passwords() -> bool:
    """Whether local passwords sign in (CHAT_LOCAL_PASSWORDS)."""
    return settings.CHAT_LOCAL_PASSWORDS


def group_map(text: str | None = None) -> dict[str, list[str]]:
    """OIDC_GROUP_MAP as {claim value: [Django group names]}: "value=Group,value=Other"."""
    mapping: dict[str, list[str]] = {}
    for pair in (settings.OIDC_GROUP_MAP if text is None else text).split(","):
        value, sep, group = pair.partition("=")
        if sep and value.strip() and group.strip():
            mapping.setdefault(value.strip(), []).append(group.strip())
    return mapping


def claim_values(claims: dict) -> set[str]:
    """The values of the groups claim: a list of strings, or one string."""
    found = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(found, str):
        return {found}
    if isinstance(found, list):
        return {value for value in found[:1000] if isinstance(value, str)}
    return set()


def is_linked(*, user: AbstractBaseUser) -> bool:
    """Whether the account signs in with the provider."""
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(user_id=user.pk, provider=PROVIDER_ID).exists()
