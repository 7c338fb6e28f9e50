"""Sessions that know whose they are: Django's database sessions, plus a SignIn row for
each signed-in one (accounts.models.SignIn), so staff can list and end a user's sessions.

A sign-in records its row (`record_sign_in`, on Django's `user_logged_in`); a session that
changes its key keeps it (SessionStore.cycle_key: a sign-in, a new password); deleting a
session deletes its row (the foreign key cascades).
"""

from django.contrib.sessions.backends import db
from django.http import HttpRequest
from django.utils import timezone

from .models import SignIn


class SessionStore(db.SessionStore):
    """Django's database session store; a signed-in session's SignIn follows its new key."""

    def cycle_key(self) -> None:
        old = self.session_key
        kept = SignIn.objects.filter(session_id=old).first() if old else None
        super().cycle_key()  # Deletes the old session, and with it its SignIn.
        if kept is not None and self.session_key:
            SignIn.objects.update_or_create(
                session_id=self.session_key,
                defaults={
                    "user_id": kept.user_id,
                    "signed_in_at": kept.signed_in_at,
                    "user_agent": kept.user_agent,
                },
            )


def record_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """Note the session a sign-in made (Django's `user_logged_in`)."""
    session = getattr(request, "session", None)
    if session is None or user is None or user.pk is None:
        return
    if session.session_key is None:
        # A sign-in over another user's session flushed it: make the new one now, so the
        # row has a session to belong to (the response saves the data into it as usual).
        session.save()
    agent = (request.META.get("HTTP_USER_AGENT") or "")[: SignIn.MAX_USER_AGENT]
    SignIn.objects.update_or_create(
        session_id=session.session_key,
        defaults={"user_id": user.pk, "signed_in_at": timezone.now(), "user_agent": agent},
    )


def connect_signals() -> None:
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(record_sign_in, dispatch_uid="accounts-sign-in")
