"""Telling open sockets that a sign-in ended: logout, deactivation, a new password, deletion,
sessions ended by staff.

Each sends an event to every socket of the user (chat/session_watch.py), after the change
is committed so the sockets' re-check sees it: through this process's hub, which passes it
on to the other processes with Redis, or, from a process serving no sockets (a management
command), straight to the others. A failure to send is logged and left to the sockets'
periodic re-check: saving a user must never fail for it.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import hooks
from .chat import broadcast, runtime
from .chat.frames.process import HubFrame, SessionCheck, SessionEnded

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
def sessions_ended(sender, user_id: int, **kwargs) -> None:
    """Staff ended the account's sessions (already committed): its sockets check theirs."""
    publish(user_id, SessionCheck.build())
