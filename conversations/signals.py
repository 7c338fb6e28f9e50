"""Telling open sockets that a sign-in ended: logout, deactivation, a new password, deletion,
sessions ended by staff, the provider's back-channel logout, a second factor enrolled elsewhere;
and the admin log's record of an account's second factors and single sign-on link.

Each sends an event to every socket of the user (chat/session_watch.py), after the change
is committed so the sockets' re-check sees it: through this process's hub, which passes it
on to the other processes with Redis, or, from a process serving no sockets (a management
command), straight to the others. A failure to send is logged and left to the sockets'
periodic re-check: saving a user must never fail for it.
"""

import logging

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import signals as mfa_signals
from allauth.socialaccount import signals as social_signals
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import hooks
from .accounts import recovery_codes, two_factor
from .accounts.audit import security_log
from .chat import broadcast, runtime
from .chat.frames.process import HubFrame, SessionCheck, SessionEnded
from .sso import services as sso_services

logger = logging.getLogger(__name__)

# The user fields whose change ends every session of the account.
SIGN_IN_FIELDS = ("password", "is_active")


def publish(user_id: int, event: dict) -> None:
    """Send `event` to every socket of the user, in this process and the others."""
    try:
        async_to_sync(_announce)(user_id, event)
    except Exception:  # noqa: BLE001 - see the module docstring
        logger.warning("Could not tell user %s's sockets to re-check their session", user_id)


async def _announce(user_id: int, event: dict) -> None:
    process = runtime.existing()
    if process is not None:
        await process.hub.publish_to_user(user_id, event)
    elif settings.REDIS_URL:
        group = broadcast.user_group_name(user_id)
        await get_channel_layer().group_send(
            group, HubFrame.build(group=group, origin="", frame=event)
        )


@receiver(user_logged_out)
def session_logged_out(sender, request, user, **kwargs) -> None:
    """Close the sockets of the session being logged out (before Django flushes it)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        publish(user.pk, SessionEnded.build(session_key=session_key))


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def user_changing(sender, instance, update_fields=None, **kwargs) -> None:
    """Note whether this save ends the account's sessions: a new password, or deactivation."""
    instance._ends_sessions = False
    if instance.pk is None:
        return
    if update_fields is not None and not set(SIGN_IN_FIELDS) & set(update_fields):
        return  # e.g. last_login on every sign-in: no query.
    before = sender.objects.filter(pk=instance.pk).values(*SIGN_IN_FIELDS).first()
    instance._ends_sessions = bool(before) and (
        before["password"] != instance.password or (before["is_active"] and not instance.is_active)
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_changed(sender, instance, **kwargs) -> None:
    if getattr(instance, "_ends_sessions", False):
        instance._ends_sessions = False
        user_id = instance.pk
        transaction.on_commit(lambda: publish(user_id, SessionCheck.build()))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_deleted(sender, instance, **kwargs) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: publish(user_id, SessionCheck.build()))


@receiver(hooks.sessions_ended)
def sessions_ended(sender, user_id: int, session_keys: list[str] | None = None, **kwargs) -> None:
    """Sessions the server ended (already committed): the sockets of those the provider
    logged out close; after staff's "sign out everywhere", every socket of the account
    checks its session."""
    if session_keys is None:
        publish(user_id, SessionCheck.build())
        return
    for session_key in session_keys:
        publish(user_id, SessionEnded.build(session_key=session_key))


@receiver(user_logged_out)
def sso_session_logged_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    sso_services.session_forget(session_key=session_key)


@receiver(mfa_signals.authenticator_added)
def factor_added(sender, request, user, authenticator, **kwargs) -> None:
    """A factor was enrolled (its code or key just shown): this session counts as verified,
    and the account's other sessions, which never showed one, close their sockets."""
    record_authentication(request, user, "mfa", type=authenticator.type, enrolled=True)
    request.session.save()  # Before the sockets re-check it.
    security_log(user=user, message=f"Added a second factor ({authenticator.get_type_display()}).")
    user_id = user.pk
    transaction.on_commit(lambda: publish(user_id, SessionCheck.build()))


@receiver(mfa_signals.authenticator_removed)
def factor_removed(sender, request, user, authenticator, **kwargs) -> None:
    security_log(
        user=user, message=f"Removed a second factor ({authenticator.get_type_display()})."
    )
    if not two_factor.factor_types(user_id=user.pk):
        recovery_codes.recovery_codes_clear(user_id=user.pk)


@receiver(mfa_signals.authenticator_used)
def factor_used(sender, request, user, authenticator, reauthenticated=False, **kwargs) -> None:
    what = "Confirmed who they are" if reauthenticated else "Signed in"
    security_log(
        user=user, message=f"{what} with a second factor ({authenticator.get_type_display()})."
    )


@receiver(social_signals.social_account_added)
def sso_linked(sender, request, sociallogin, **kwargs) -> None:
    security_log(user=sociallogin.user, message="Linked the account to single sign-on.")
