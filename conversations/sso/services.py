"""Writes of single sign-on: groups from the provider's claim, and the sessions it makes
and the provider ends."""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .. import hooks
from . import selectors as sso_selectors
from .models import SsoSession

# What the session keeps of its sign-in, for RP-initiated logout.
SESSION_KEY = "sso"


def groups_apply(*, user: AbstractBaseUser, claims: dict) -> None:
    """Make the user's mapped groups what the claim says, on every sign-in.

    Only groups named in OIDC_GROUP_MAP are added or taken away: groups staff give in the
    admin stay. Staff status follows OIDC_STAFF_GROUPS when it is set, except for a
    superuser's; nothing here makes or unmakes a superuser.
    """
    mapping = sso_selectors.group_map()
    values = sso_selectors.claim_values(claims)
    managed = {name for names in mapping.values() for name in names}
    wanted = {name for value in values for name in mapping.get(value, [])}
    with transaction.atomic():
        groups = {g.name: g for g in Group.objects.filter(name__in=managed)}
        for name in wanted - set(groups):
            groups[name] = Group.objects.create(name=name)
        user.groups.remove(*(groups[name] for name in managed - wanted if name in groups))
        user.groups.add(*(groups[name] for name in wanted))
        if settings.OIDC_STAFF_GROUPS and not user.is_superuser:
            staff = bool(values & set(settings.OIDC_STAFF_GROUPS))
            if user.is_staff != staff:
                user.is_staff = staff
                user.save(update_fields=["is_staff"])


def session_begin(
    *, request: HttpRequest, user: AbstractBaseUser, issuer: str, sid: str, id_token: str
) -> None:
    """A session the provider signed in: it ends OIDC_SESSION_SECONDS from now at the
    latest (an absolute expiry, not renewed by use), and the provider's logout of its
    `sid` ends it sooner."""
    expires_at = timezone.now() + timedelta(seconds=settings.OIDC_SESSION_SECONDS)
    request.session.set_expiry(expires_at)
    request.session[SESSION_KEY] = {"id_token": id_token, "issuer": issuer}
    request.session.save()
    with transaction.atomic():
        # Rows of sessions that ended on their own go as new ones come.
        SsoSession.objects.filter(user_id=user.pk, expires_at__lt=timezone.now()).delete()
        SsoSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={"user_id": user.pk, "issuer": issuer, "sid": sid, "expires_at": expires_at},
        )


def session_forget(*, session_key: str | None) -> None:
    """The session ended here (signed out): its row goes."""
    if session_key:
        SsoSession.objects.filter(session_key=session_key).delete()


def sessions_end(*, issuer: str, sid: str = "", user_ids: list[int] | None = None) -> int:
    """End the sessions the provider logged out: those of one provider session (`sid`),
    or every single sign-on session of some users. Returns how many ended; their sockets
    are told through hooks.sessions_ended once this commits."""
    rows = SsoSession.objects.filter(issuer=issuer)
    if sid:
        rows = rows.filter(sid=sid)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    if not sid and user_ids is None:
        return 0
    ended = list(rows.values_list("user_id", "session_key")[:10_000])
    store = import_module(settings.SESSION_ENGINE).SessionStore
    by_user: dict[int, list[str]] = {}
    for user_id, session_key in ended:
        store(session_key).delete()
        by_user.setdefault(user_id, []).append(session_key)
    SsoSession.objects.filter(session_key__in=[key for _, key in ended]).delete()

    def announce() -> None:
        for user_id, keys in by_user.items():
            hooks.sessions_ended.send(sender=SsoSession, user_id=user_id, session_keys=keys)

    transaction.on_commit(announce)
    return len(ended)
