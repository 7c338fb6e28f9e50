"""Writes about a user's own account: their settings and ending their sessions (deleting it:
deletion/services.py)."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from .. import hooks
from ..hosts import is_loopback
from . import selectors as account_selectors
from . import signup
from .models import Invite, SetupToken, SignIn, UserSettings, invite_expiry

SETTINGS_FIELDS = (
    "theme",
    "default_persona",
    "default_model",
    "custom_instructions",
    "enter_to_send",
    "retention_days",
)


def user_settings_update(*, user: AbstractBaseUser, **fields) -> UserSettings:
    """Save some of the user's settings (the row is made on the first save)."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not settings fields: {sorted(unknown)}")
    found, _ = UserSettings.objects.update_or_create(user_id=user.pk, defaults=fields)
    return found


def user_sign_out_everywhere(*, user: AbstractBaseUser, password: str | None) -> None:
    """End every session of the account, on every device, this one included.

    The password is stored again under a new salt (an account without one, made by single
    sign-on, gets a new unusable one): every session keeps a hash of the stored password
    (Django checks it on each request) and no session's matches any more, whatever the
    session store. Open websockets hear of the new password too.
    """
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])


def user_sessions_end(*, user_id: int) -> int:
    """End every session the account signed in with (staff's "sign out everywhere"; it
    needs no password), and close its open sockets once that is committed. Returns how
    many sessions ended."""
    theirs = SignIn.objects.filter(user_id=user_id).values("session_id")
    with transaction.atomic():
        _, deleted = Session.objects.filter(session_key__in=theirs).delete()
        transaction.on_commit(lambda: hooks.sessions_ended.send(sender=None, user_id=user_id))
    return deleted.get(Session._meta.label, 0)


class SignupRefused(Exception):
    """A sign-up the site's rules do not allow; the message says why, fit to show."""


def user_create(
    *, username: str, password: str, token: str = "", trusted_local: bool = False
) -> AbstractBaseUser:
    """Create an account as the sign-up rules allow, or raise SignupRefused.

    The first account becomes a superuser: on a laptop (`trusted_local`) freely, anywhere
    else only with the setup token. After it, CHAT_SIGNUP decides: open, closed, or `invite`
    (`token` must be an open invite code, used up here). Tokens and codes are used up in
    the same transaction as the account, so two sign-ups can never share one.
    """
    User = get_user_model()
    with transaction.atomic():
        if not User.objects.exists():
            if not (trusted_local or setup_token_consume(token)):
                raise SignupRefused(
                    "That setup token is not valid: it may have been used, expired, or been "
                    "replaced by a newer one."
                )
            return User.objects.create_superuser(username=username, password=password)
        if settings.CHAT_SIGNUP == "closed":
            raise SignupRefused("Sign-up is closed on this site.")
        user = User.objects.create_user(username=username, password=password)
        if settings.CHAT_SIGNUP == "invite" and not _invite_consume(token, user):
            # Raising inside the transaction takes the new account back out.
            raise SignupRefused("That invite code is not valid: it may have been used or expired.")
        return user


def setup_token_issue() -> str:
    """A new one-time token for the first account; any earlier one stops working."""
    token = signup.new_secret()
    with transaction.atomic():
        SetupToken.objects.all().delete()
        SetupToken.objects.create(
            token_hash=signup.secret_hash(token),
            expires_at=timezone.now() + signup.SETUP_TOKEN_TTL,
        )
    return token


def setup_token_consume(token: str) -> bool:
    """Use up the setup token; whether it was the current, unexpired one."""
    if not token:
        return False
    # A delete is atomic: of two sign-ups racing with the same token, one deletes it.
    deleted, _ = SetupToken.objects.filter(
        token_hash=signup.secret_hash(token), expires_at__gt=timezone.now()
    ).delete()
    return deleted > 0


def invite_create(
    *,
    created_by: AbstractBaseUser | None,
    note: str = "",
    expires_at: datetime | None = None,
) -> tuple[Invite, str]:
    """A single-use sign-up invite; returns it and its code, which is not stored."""
    code = signup.new_secret()
    invite = Invite.objects.create(
        code_hash=signup.secret_hash(code),
        note=note,
        created_by=created_by,
        expires_at=expires_at or invite_expiry(),
    )
    return invite, code


def _invite_consume(code: str, user: AbstractBaseUser) -> bool:
    if not code:
        return False
    used = Invite.objects.filter(
        code_hash=signup.secret_hash(code), used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now(), used_by=user)
    return used == 1


def startup_notice(*, bind_host: str, url: str) -> str:
    """What the server prints at start-up about the first account ("" once one exists).

    Off loopback it issues a fresh setup token (any earlier one stops working) and says it.
    """
    if account_selectors.user_exists():
        return ""
    page = f"{url.rstrip('/')}/accounts/signup/"
    how = f"signed up at {page}"
    if not settings.CHAT_LOCAL_PASSWORDS:
        how = f"signed in with single sign-on at {url.rstrip('/')}/accounts/login/"
    if settings.CHAT_SERVED_LOCALLY and is_loopback(bind_host):
        return (
            f"No accounts yet: the first account {how} becomes the "
            "administrator of this site (a superuser)."
        )
    token = setup_token_issue()
    asks = "The sign-up page" if settings.CHAT_LOCAL_PASSWORDS else "The sign-in page"
    return (
        f"No accounts yet: the first account {how} becomes the administrator "
        f"of this site (a superuser). {asks} asks for this one-time\n"
        f"  setup token: {token}\n"
        f"It works once, within {signup.SETUP_TOKEN_TTL.total_seconds() / 3600:g} hours. "
        "`python manage.py setup_token` makes a new one; `python manage.py createsuperuser` "
        "makes the administrator without it."
    )
